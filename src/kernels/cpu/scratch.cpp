// Per-thread scratch memory, the thread count, the L1 size and the streaming-store threshold,
// outside the per-ISA builds.
#include "kernels/cpu/scratch.hpp"

#include <omp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>

#include "bnorm/error.hpp"
#include "kernels/cpu/tuning.hpp"

namespace bnorm::kernels {

void* thread_scratch(size_t bytes) {
  struct AlignedFree {
    void operator()(std::byte* p) const { ::operator delete[](p, std::align_val_t{64}); }
  };
  thread_local std::unique_ptr<std::byte[], AlignedFree> buffer;
  thread_local size_t capacity = 0;
  if (bytes > capacity) {
    // Grow geometrically so that slowly growing problems do not reallocate on every call.
    const size_t grown = bytes > 2 * capacity ? bytes : 2 * capacity;
    buffer.reset(static_cast<std::byte*>(::operator new[](grown, std::align_val_t{64})));
    capacity = grown;
  }
  return buffer.get();
}

int max_threads() { return omp_get_max_threads(); }

int64_t l1_tile_budget_bytes() {
#ifdef _SC_LEVEL1_DCACHE_SIZE                                 // a glibc extension
  static const int64_t l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE);  // 0 or -1: not known
#else
  static const int64_t l1 = 0;
#endif
  return (l1 > 0 ? l1 : tuning::kL1Bytes) * tuning::kL1TileQuarters / 4;
}

int64_t parse_stream_min_bytes(const char* value) {
  if (value == nullptr || *value == '\0') return -1;
  const bool starts_with_digit = *value >= '0' && *value <= '9';  // strtoll takes " 12", "+12"
  errno = 0;
  char* end = nullptr;
  const long long bytes = std::strtoll(value, &end, 10);
  if (!starts_with_digit || *end != '\0' || errno == ERANGE) {
    throw Error(
        "[batch_norm] expected BNORM_STREAM_MIN_BYTES to be a whole number of bytes >= 0, got '" +
        std::string(value) + "'; unset it for the default threshold");
  }
  return bytes;
}

int64_t stream_min_bytes(int64_t fallback) {
  static const int64_t from_environment =
      parse_stream_min_bytes(std::getenv("BNORM_STREAM_MIN_BYTES"));
  return from_environment >= 0 ? from_environment : fallback;
}

}  // namespace bnorm::kernels
