// One knob for the engine's threads: OpenMP (bnorm's kernels) and OpenBLAS's own pool. Results are
// deterministic for a given thread count; they may differ in the last bits between counts, since
// GEMM splits its sums differently.
#pragma once

namespace bnorm::nn {

// Throws bnorm::Error on n < 1.
void set_num_threads(int n);
int num_threads();  // as last set (OpenMP's current maximum)

}  // namespace bnorm::nn
