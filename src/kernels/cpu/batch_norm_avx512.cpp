// The optimized float32 kernels built for avx512 (64-byte vectors); CMake gives this file its ISA
// flags.
#define BNORM_CPU_NS avx512
#define BNORM_CPU_VECTOR_BYTES 64
#define BNORM_CPU_NAME "cpu-avx512"
#define BNORM_CPU_FLOAT_ONLY 1
#include "kernels/cpu/kernel_set.inc"
