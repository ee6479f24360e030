// Fuzz target: an IDX file's bytes, plain or gzip (decode_idx_file: gunzip bounded by the header,
// then every IDX check). Anything but a parsed array or a bnorm::Error is a bug.
#include <bnorm/error.hpp>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "data/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const bnorm::data::IdxArray a =
        bnorm::data::decode_idx_file(std::vector<uint8_t>(data, data + size), "fuzz");
    size_t n = 1;
    for (int64_t d : a.dims) n *= static_cast<size_t>(d);
    if (n != a.data.size()) __builtin_trap();  // a parsed array always matches its header
  } catch (const bnorm::Error&) {
  }
  return 0;
}
