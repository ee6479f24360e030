// The optimized kernels built for avx512 (64-byte vectors; float32 only); CMake gives this
// file its ISA flags, and kernels/implementations.cpp lists the result.
#define BNORM_CPU_NS avx512
#define BNORM_CPU_VECTOR_BYTES 64
#define BNORM_CPU_NAME "cpu-avx512"
#define BNORM_CPU_REQUIRES kAvx512
#define BNORM_CPU_FLOAT_ONLY 1
#include "kernels/cpu/kernel_set.hpp"
