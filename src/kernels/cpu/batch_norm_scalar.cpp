// The optimized kernels built for scalar (16-byte vectors); CMake gives this
// file its ISA flags, and kernels/implementations.cpp lists the result.
#define BNORM_CPU_NS scalar
#define BNORM_CPU_VECTOR_BYTES 16
#define BNORM_CPU_NAME "cpu-scalar"
#define BNORM_CPU_REQUIRES kScalar
#include "kernels/cpu/kernel_set.hpp"
