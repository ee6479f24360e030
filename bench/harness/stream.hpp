// STREAM-like memory bandwidth (McCalpin's copy, scale and triad on double arrays), measured by
// the benchmark itself so its "% of STREAM" column compares against the same machine, same
// moment, same thread count.
#pragma once

#include <cstddef>

namespace bnorm::bench {

struct StreamResult {
  int threads = 1;
  size_t array_bytes = 0;  // each of the three arrays
  double copy_gbs = 0.0;   // c = a:          16 B per element
  double scale_gbs = 0.0;  // b = s * c:      16 B per element
  double triad_gbs = 0.0;  // a = b + s * c:  24 B per element
  // b = s * c with non-temporal stores, 16 B per element counted and moved: plain stores first
  // read each line they write, so scale moves 24 B for the 16 it counts. This is how fast the
  // bus goes for kernels that stream their outputs, as bnorm's large ones do.
  double scale_nt_gbs = 0.0;
};

// Runs each kernel `reps` times on three arrays of array_bytes each with `threads` OpenMP threads
// and reports the best rate, as STREAM does. Throws bnorm::Error when the arrays' final values are
// wrong (a sign the kernels were miscompiled or skipped).
StreamResult measure_stream(int threads, size_t array_bytes, int reps);

}  // namespace bnorm::bench
