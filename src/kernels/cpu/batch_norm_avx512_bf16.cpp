// The optimized bfloat16 kernels built for avx512 with AVX512_BF16 (64-byte vectors): the
// batch_norm_avx512.cpp build with vcvtneps2bf16 for the rounding to bfloat16. CMake gives this
// file its ISA flags; kernels/implementations.cpp lists it first for bfloat16, where the CPU has
// AVX512_BF16 (checked at run time).
#define BNORM_CPU_NS avx512_bf16
#define BNORM_CPU_VECTOR_BYTES 64
#define BNORM_CPU_NAME "cpu-avx512-bf16"
#define BNORM_CPU_REQUIRES kAvx512
#define BNORM_CPU_BF16_ONLY 1
#include "kernels/cpu/kernel_set.hpp"
