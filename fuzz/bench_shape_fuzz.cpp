// Fuzz target: `bnorm bench --shapes`' parser (bench::parse_shape). It must return a shape whose
// element count fits in int64 and whose name parses back to the same dims, or throw bnorm::Error.
#include <bnorm/error.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "problem.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const bnorm::bench::Shape s = bnorm::bench::parse_shape(text);
    if (s.dims.size() != 2 && s.dims.size() != 4) __builtin_trap();
    for (int64_t d : s.dims) {
      if (d < 1) __builtin_trap();
    }
    if (!bnorm::bench::checked_numel(s.dims) || s.numel() / s.dims[1] < 2) __builtin_trap();
    if (bnorm::bench::parse_shape(s.name).dims != s.dims) __builtin_trap();
  } catch (const bnorm::Error&) {
  }
  return 0;
}
