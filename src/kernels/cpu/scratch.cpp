// Per-thread scratch memory and the thread count, outside the per-ISA builds.
#include "kernels/cpu/scratch.hpp"

#include <omp.h>

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

}  // namespace bnorm::kernels
