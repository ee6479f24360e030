// The optimized kernels built for avx2 (32-byte vectors; float32 and bfloat16); CMake gives this
// file its ISA flags, and kernels/implementations.cpp lists the result.
#define BNORM_CPU_NS avx2
#define BNORM_CPU_VECTOR_BYTES 32
#define BNORM_CPU_NAME "cpu-avx2"
#define BNORM_CPU_REQUIRES kAvx2
#define BNORM_CPU_FLOAT_ONLY 1
#include "kernels/cpu/kernel_set.hpp"
