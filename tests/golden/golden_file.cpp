// Parses golden files line by line with std::from_chars: float32 values are read as float, so the
// %.9g text written by PyTorch's side comes back bit-exact.
#include "golden_file.hpp"

#include <charconv>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace bnorm::golden {
namespace {

[[noreturn]] void fail(const std::string& path, int line, const std::string& what) {
  std::ostringstream out;
  out << "golden file " << path;
  if (line > 0) out << ", line " << line;
  out << ": " << what;
  throw std::runtime_error(out.str());
}

template <typename V>
V parse(const std::string& token, const std::string& path, int line, const std::string& what) {
  V value{};
  const char* end = token.data() + token.size();
  const auto [ptr, ec] = std::from_chars(token.data(), end, value);
  if (ec != std::errc() || ptr != end)
    fail(path, line, "expected " + what + ", got '" + token + "'");
  return value;
}

GoldenArray parse_array(std::istringstream& in, const std::string& path, int line,
                        std::string* name) {
  GoldenArray a;
  int64_t rank = 0;
  if (!(in >> *name >> a.dtype >> rank) || rank < 1 || rank > 8)
    fail(path, line, "expected 'array NAME DTYPE RANK DIMS... VALUES...'");
  if (a.dtype != "float32" && a.dtype != "float64" && a.dtype != "int64")
    fail(path, line, "expected dtype float32, float64 or int64, got '" + a.dtype + "'");
  int64_t count = 1;
  std::string token;
  for (int64_t i = 0; i < rank; ++i) {
    if (!(in >> token)) fail(path, line, "expected " + std::to_string(rank) + " dims");
    a.dims.push_back(parse<int64_t>(token, path, line, "a dim"));
    if (a.dims.back() <= 0) fail(path, line, "expected positive dims, got " + token);
    count *= a.dims.back();
  }
  a.values.reserve(static_cast<size_t>(count));
  while (in >> token) {
    if (a.dtype == "float32")
      a.values.push_back(parse<float>(token, path, line, "a float32 value"));
    else if (a.dtype == "float64")
      a.values.push_back(parse<double>(token, path, line, "a float64 value"));
    else
      a.values.push_back(static_cast<double>(parse<int64_t>(token, path, line, "an int64 value")));
  }
  if (static_cast<int64_t>(a.values.size()) != count)
    fail(path, line,
         "array " + *name + ": expected " + std::to_string(count) +
             " values (product of its dims), got " + std::to_string(a.values.size()));
  return a;
}

}  // namespace

const GoldenArray& GoldenCase::array(const std::string& name) const {
  const auto it = arrays.find(name);
  if (it == arrays.end()) fail(path, 0, "expected an array named " + name + ", got none");
  return it->second;
}

const std::string& GoldenCase::option(const std::string& key) const {
  const auto it = options.find(key);
  if (it == options.end()) fail(path, 0, "expected an option named " + key + ", got none");
  return it->second;
}

double GoldenCase::option_number(const std::string& key) const {
  return parse<double>(option(key), path, 0, "option " + key + " to be a number");
}

GoldenCase read_golden_case(const std::string& path) {
  std::ifstream file(path);
  if (!file) fail(path, 0, "cannot be opened");
  GoldenCase g;
  g.path = path;
  std::string text;
  for (int line = 1; std::getline(file, text); ++line) {
    if (text.empty() || text[0] == '#') continue;
    std::istringstream in(text);
    std::string kind, name, value;
    in >> kind;
    if (kind == "option") {
      if (!(in >> name >> value)) fail(path, line, "expected 'option KEY VALUE'");
      g.options[name] = value;
    } else if (kind == "array") {
      GoldenArray a = parse_array(in, path, line, &name);
      if (!g.arrays.emplace(name, std::move(a)).second)
        fail(path, line, "expected each array once, got " + name + " twice");
    } else {
      fail(path, line,
           "expected a line starting with 'option', 'array' or '#', got '" + kind + "'");
    }
  }
  if (g.arrays.empty()) fail(path, 0, "expected arrays, got none (truncated file?)");
  return g;
}

std::vector<std::string> read_case_list(const std::string& path) {
  std::ifstream file(path);
  if (!file) fail(path, 0, "cannot be opened");
  std::vector<std::string> names;
  for (std::string name; file >> name;) names.push_back(name);
  return names;
}

}  // namespace bnorm::golden
