// The values a subcommand's options write, reachable from outside the CLI::App. One app can then
// parse many command lines (the option fuzzer does: building the app costs far more than a parse):
// CLI::App::clear() forgets CLI11's parse results, CommandState::reset() the values it wrote.
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

namespace bnorm::cli {

struct CommandState {
  std::function<void()> reset;            // every value the options write, back to its default
  std::function<std::string()> describe;  // those values, exactly, to compare two parses
};

namespace detail {

inline void describe_one(std::string& out, const std::string& v) { out += '"' + v + '"'; }
inline void describe_one(std::string& out, double v) {
  char text[40];
  std::snprintf(text, sizeof text, "%a", v);  // hex: two doubles print alike only when equal
  out += text;
}
template <typename T>
requires std::is_integral_v<T>
void describe_one(std::string& out, T v) { out += std::to_string(v); }
template <typename T>
void describe_one(std::string& out, const std::vector<T>& v) {
  out += '[';
  for (const T& item : v) {
    describe_one(out, item);
    out += ',';
  }
  out += ']';
}

}  // namespace detail

// The values, space-separated, in the order given: for CommandState::describe.
template <typename... T>
std::string describe_values(const T&... values) {
  std::string out;
  ((detail::describe_one(out, values), out += ' '), ...);
  return out;
}

}  // namespace bnorm::cli
