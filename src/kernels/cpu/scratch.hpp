// Per-thread scratch memory for the optimized kernels, so that a call allocates nothing once the
// calling thread has seen a problem of its size. Compiled for baseline x86-64: the per-ISA files
// must not instantiate library templates, whose one linked copy could carry AVX-512 instructions.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bnorm::kernels {

// At least `bytes` bytes, 64-byte aligned, owned by the calling thread and valid until its next
// call. Contents are unspecified.
void* thread_scratch(size_t bytes);

// How many threads a parallel region would get here (omp_get_max_threads).
int max_threads();

// Bytes a column tile of every row may take in the row-major L1-tile kernels:
// tuning::kL1TileQuarters of this machine's L1 data cache per core as the C library reports it
// (tuning::kL1Bytes where it reports none). Read once, on the core the first call runs on.
int64_t l1_tile_budget_bytes();

// Outputs of more bytes than this are written with non-temporal stores: `fallback`, or
// BNORM_STREAM_MIN_BYTES when set (read once; the tests set 0 to run every shape that way).
// Throws bnorm::Error when the variable is set to anything but a whole number >= 0.
int64_t stream_min_bytes(int64_t fallback);

// The value of BNORM_STREAM_MIN_BYTES (null or empty: -1, not set). Throws bnorm::Error naming the
// variable for text that is not a whole number >= 0 written in digits only ("16MiB", "-1",
// "+12", " 12", "1e6", an overflow).
int64_t parse_stream_min_bytes(const char* value);

}  // namespace bnorm::kernels
