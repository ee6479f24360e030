// Reader for the golden files scripts/make_golden.py writes: "option KEY VALUE" lines and
// "array NAME DTYPE RANK DIMS... VALUES..." lines (format documented in that script).
// Errors name the file, the line and what is wrong.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bnorm::golden {

struct GoldenArray {
  std::string dtype;           // float32, float64 or int64
  std::vector<int64_t> dims;   // logical [N, C, spatial...] for tensors, [C] for per-channel
  std::vector<double> values;  // in file order; float32 and int64 values are held exactly
};

struct GoldenCase {
  std::string path;
  std::map<std::string, std::string> options;
  std::map<std::string, GoldenArray> arrays;

  bool has(const std::string& name) const { return arrays.count(name) != 0; }
  // Throw std::runtime_error naming the file when the entry is missing or malformed.
  const GoldenArray& array(const std::string& name) const;
  const std::string& option(const std::string& key) const;
  double option_number(const std::string& key) const;
};

GoldenCase read_golden_case(const std::string& path);

// Case names, one per line (cases.txt).
std::vector<std::string> read_case_list(const std::string& path);

}  // namespace bnorm::golden
