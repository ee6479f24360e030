// Strict integer, float and list parsing for the command line's options.
#include "options.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <thread>

namespace bnorm::cli {
namespace {

[[noreturn]] void reject(const std::string& option, const std::string& expected,
                         const std::string& text) {
  throw CLI::ValidationError(option, "expected " + expected + ", got '" + text + "'");
}

std::string range(double min, double max, bool max_open) {
  std::ostringstream out;
  out << "a finite number in [" << min << ", " << max << (max_open ? ")" : "]");
  return out.str();
}

}  // namespace

int max_threads() {
  return 4 * static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

int64_t parse_int(const std::string& option, const std::string& text, int64_t min, int64_t max) {
  const std::string expected =
      "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  int64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || text.empty() || v < min || v > max)
    reject(option, expected, text);
  return v;
}

uint64_t parse_uint64(const std::string& option, const std::string& text) {
  uint64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);  // no sign accepted, so no "-1"
  if (ec != std::errc() || ptr != end || text.empty())
    reject(option, "an integer in [0, 18446744073709551615]", text);
  return v;
}

double parse_double(const std::string& option, const std::string& text, double min, double max,
                    bool max_open) {
  double v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  const bool in_range = std::isfinite(v) && v >= min && (max_open ? v < max : v <= max);
  if (ec != std::errc() || ptr != end || text.empty() || !in_range)
    reject(option, range(min, max, max_open), text);
  return v;
}

std::vector<std::string> split_list(const std::string& option, const std::string& text,
                                    const std::string& of) {
  std::vector<std::string> items;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    items.push_back(text.substr(start, comma == std::string::npos ? comma : comma - start));
    if (items.back().empty()) {
      reject(option, "a comma-separated list of " + of + " without empty items", text);
    }
    if (comma == std::string::npos) return items;
    start = comma + 1;
  }
}

std::vector<double> parse_double_list(const std::string& option, const std::string& text,
                                      double min, double max) {
  std::vector<double> values;
  for (const std::string& item : split_list(option, text, "numbers")) {
    values.push_back(parse_double(option, item, min, max));
  }
  return values;
}

std::vector<int64_t> parse_int_list(const std::string& option, const std::string& text, int64_t min,
                                    int64_t max) {
  std::vector<int64_t> values;
  for (const std::string& item : split_list(option, text, "integers")) {
    values.push_back(parse_int(option, item, min, max));
  }
  return values;
}

}  // namespace bnorm::cli
