// Argument checks at the API boundary: build "[op] expected ..., got ..." messages and throw.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

#include "bnorm/error.hpp"

namespace bnorm::detail {

template <typename... Parts>
[[noreturn]] void fail(std::string_view op, const Parts&... parts) {
  std::ostringstream out;
  out << '[' << op << "] ";
  (out << ... << parts);
  throw Error(out.str());
}

template <typename... Parts>
void check(bool ok, std::string_view op, const Parts&... parts) {
  if (!ok) fail(op, parts...);
}

}  // namespace bnorm::detail
