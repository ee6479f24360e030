// The optimized KernelSet of one ISA build, kernel_set<T>() in namespace BNORM_CPU_NS: routes each
// problem to the channels-first (NCHW, S > 1) or the row-major (N x C, channels-last) kernels and
// picks the relu and non-relu instantiation. Included once, by the build's batch_norm_<isa>.cpp,
// which also defines BNORM_CPU_NAME, BNORM_CPU_REQUIRES (a CpuIsa) and which element types it
// leaves out: BNORM_CPU_FLOAT_ONLY (no float64), BNORM_CPU_NO_BF16 (no bfloat16),
// BNORM_CPU_BF16_ONLY (bfloat16 alone: the AVX512_BF16 build).
#pragma once

#if !defined(BNORM_CPU_NAME) || !defined(BNORM_CPU_REQUIRES)
#error "kernel_set.hpp needs BNORM_CPU_NAME and BNORM_CPU_REQUIRES: see batch_norm_avx2.cpp"
#endif

#include "bnorm/layout.hpp"
#include "bnorm/moments.hpp"
#include "kernels/cpu/channels_first_kernels.hpp"
#include "kernels/cpu/row_major_kernels.hpp"
#include "kernels/kernels.hpp"

namespace bnorm::kernels::BNORM_CPU_NS {
namespace {

// Channels-first with one spatial position is row-major [N, C], like kNC and channels-last.
bool is_row_major(const Extents& e) { return e.s == 1 || e.layout == Layout::kChannelsLast; }

bool supports_everything(const Extents&) { return true; }

template <typename T>
void forward_train(const T* x, const Extents& e, const double* gamma, const double* beta,
                   double eps, bool relu, T* y, Moments* moments, double* invstd) {
  if (is_row_major(e)) {
    relu ? forward_train_rows<T, true>(x, e, gamma, beta, eps, y, moments, invstd)
         : forward_train_rows<T, false>(x, e, gamma, beta, eps, y, moments, invstd);
  } else {
    relu ? forward_train_channels_first<T, true>(x, e, gamma, beta, eps, y, moments, invstd)
         : forward_train_channels_first<T, false>(x, e, gamma, beta, eps, y, moments, invstd);
  }
}

template <typename T>
void forward_infer(const T* x, const Extents& e, const double* mean, const double* invstd,
                   const double* gamma, const double* beta, bool relu, T* y) {
  if (is_row_major(e)) {
    relu ? forward_infer_rows<T, true>(x, e, mean, invstd, gamma, beta, y)
         : forward_infer_rows<T, false>(x, e, mean, invstd, gamma, beta, y);
  } else {
    relu ? forward_infer_channels_first<T, true>(x, e, mean, invstd, gamma, beta, y)
         : forward_infer_channels_first<T, false>(x, e, mean, invstd, gamma, beta, y);
  }
}

template <typename T>
void backward(const T* x, const T* dy, const Extents& e, const double* mean, const double* invstd,
              const double* gamma, const double* beta, bool relu, bool through_stats, T* dx,
              double* dgamma, double* dbeta) {
  if (is_row_major(e)) {
    relu ? backward_rows<T, true>(x, dy, e, mean, invstd, gamma, beta, through_stats, dx, dgamma,
                                  dbeta)
         : backward_rows<T, false>(x, dy, e, mean, invstd, gamma, beta, through_stats, dx, dgamma,
                                   dbeta);
  } else {
    relu ? backward_channels_first<T, true>(x, dy, e, mean, invstd, gamma, beta, through_stats, dx,
                                            dgamma, dbeta)
         : backward_channels_first<T, false>(x, dy, e, mean, invstd, gamma, beta, through_stats, dx,
                                             dgamma, dbeta);
  }
}

// Whether this build rounds to bfloat16 with AVX512_BF16 instructions.
#ifdef __AVX512BF16__
constexpr bool kNeedsAvx512Bf16 = true;
#else
constexpr bool kNeedsAvx512Bf16 = false;
#endif

template <typename T>
const KernelSet<T> kKernels = {BNORM_CPU_NAME,   CpuIsa::BNORM_CPU_REQUIRES, supports_everything,
                               forward_train<T>, forward_infer<T>,           backward<T>,
                               kNeedsAvx512Bf16};

}  // namespace

template <typename T>
const KernelSet<T>& kernel_set() {
  return kKernels<T>;
}

#ifndef BNORM_CPU_BF16_ONLY
template const KernelSet<float>& kernel_set<float>();
#endif
#if !defined(BNORM_CPU_FLOAT_ONLY) && !defined(BNORM_CPU_BF16_ONLY)
template const KernelSet<double>& kernel_set<double>();
#endif
#ifndef BNORM_CPU_NO_BF16
template const KernelSet<bfloat16>& kernel_set<bfloat16>();
#endif

}  // namespace bnorm::kernels::BNORM_CPU_NS
