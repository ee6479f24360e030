// The optimized kernels built for avx512 (64-byte vectors; float32 and bfloat16, which rounds with
// AVX-512F integer operations: the build for CPUs without AVX512_BF16); CMake gives this
// file its ISA flags, and kernels/implementations.cpp lists the result.
#define BNORM_CPU_NS avx512
#define BNORM_CPU_VECTOR_BYTES 64
#define BNORM_CPU_NAME "cpu-avx512"
#define BNORM_CPU_REQUIRES kAvx512
#define BNORM_CPU_FLOAT_ONLY 1
#include "kernels/cpu/kernel_set.hpp"
