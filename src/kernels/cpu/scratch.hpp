// Per-thread scratch memory for the optimized kernels, so that a call allocates nothing once the
// calling thread has seen a problem of its size. Compiled for baseline x86-64: the per-ISA files
// must not instantiate library templates, whose one linked copy could carry AVX-512 instructions.
#pragma once

#include <cstddef>

namespace bnorm::kernels {

// At least `bytes` bytes, 64-byte aligned, owned by the calling thread and valid until its next
// call. Contents are unspecified.
void* thread_scratch(size_t bytes);

// How many threads a parallel region would get here (omp_get_max_threads).
int max_threads();

}  // namespace bnorm::kernels
