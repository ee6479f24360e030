// bnorm::Error: the one exception type thrown at the library's API boundary.
// Messages read "[op] expected ..., got ..." so a user can see both what was wanted and what came.
#pragma once

#include <stdexcept>
#include <string>

namespace bnorm {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace bnorm
