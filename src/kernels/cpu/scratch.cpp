// Per-thread scratch memory, the thread count and the streaming-store threshold, outside the
// per-ISA builds.
#include "kernels/cpu/scratch.hpp"

#include <omp.h>

#include <cstdlib>
#include <memory>
#include <new>

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

int64_t stream_min_bytes(int64_t fallback) {
  static const int64_t from_environment = [] {
    const char* v = std::getenv("BNORM_STREAM_MIN_BYTES");
    return v != nullptr && *v != '\0' ? std::strtoll(v, nullptr, 10) : int64_t{-1};
  }();
  return from_environment >= 0 ? from_environment : fallback;
}

}  // namespace bnorm::kernels
