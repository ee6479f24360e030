// The contract every BatchNorm kernel implementation fulfils, and how one is chosen.
// Kernels see validated problems only (the API layer in src/functional.cpp checks everything), so
// they never throw. Per-channel arrays are float64 [C]; gamma and beta are always present (the API
// layer passes ones and zeros when the module has no affine). With relu, the output is
// max(y, 0) and the backward masks dy where the recomputed y = gamma * xhat + beta is not > 0.
#pragma once

#include "bnorm/functional.hpp"
#include "bnorm/layout.hpp"
#include "bnorm/moments.hpp"

namespace bnorm::kernels {

template <typename T>
struct KernelSet {
  const char* name;
  bool (*supports)(const Extents& e);

  // Batch moments per channel into moments [C], then y = gamma * (x - mean) * invstd + beta with
  // invstd [C] = 1 / sqrt(moments.variance() + eps) (var biased), written with exactly that
  // expression so that callers keep it instead of computing it again.
  void (*forward_train)(const T* x, const Extents& e, const double* gamma, const double* beta,
                        double eps, bool relu, T* y, Moments* moments, double* invstd);

  // y = gamma * (x - mean) * invstd + beta with given mean, invstd [C].
  void (*forward_infer)(const T* x, const Extents& e, const double* mean, const double* invstd,
                        const double* gamma, const double* beta, bool relu, T* y);

  // dbeta [C] = sum dy, dgamma [C] = sum dy * xhat (always written); dx (nullable) as in
  // functional.hpp, through the batch statistics when through_stats. beta is read only with relu.
  void (*backward)(const T* x, const T* dy, const Extents& e, const double* mean,
                   const double* invstd, const double* gamma, const double* beta, bool relu,
                   bool through_stats, T* dx, double* dgamma, double* dbeta);
};

// The reference implementation: supports every problem.
template <typename T>
const KernelSet<T>& reference_kernels();

// The implementation `backend` selects for e. Throws bnorm::Error for Backend::kOptimized when no
// optimized implementation supports e.
template <typename T>
const KernelSet<T>& select_kernels(const Extents& e, Backend backend);

}  // namespace bnorm::kernels
