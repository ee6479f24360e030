// The kernels with the AVX-512 build's vector width (64 bytes: 16 floats, 8 doubles), compiled
// for baseline x86-64, where GCC splits each vector into SSE registers. A CPU without AVX-512
// cannot run the real AVX-512 build; this one runs the same source with the same lane count
// everywhere, so the tests cover the 16-lane tails, flushes and reductions on any machine.
#define BNORM_CPU_NS wide_baseline
#define BNORM_CPU_VECTOR_BYTES 64
#define BNORM_CPU_NAME "cpu-64byte-baseline"
#define BNORM_CPU_REQUIRES kScalar
#define BNORM_CPU_FLOAT_ONLY 1
#define BNORM_CPU_NO_BF16 1
#include "kernels/cpu/kernel_set.hpp"
