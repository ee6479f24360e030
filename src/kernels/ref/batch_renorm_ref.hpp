// Reference Batch Renormalization kernels: plain loops, float64, one thread, written from the
// paper's Algorithm 1 without BatchNorm's kernels, so the optimized path (BatchNorm's kernels
// with gamma * r as the scale) is tested against an independent computation.
#pragma once

#include "bnorm/layout.hpp"
#include "bnorm/moments.hpp"

namespace bnorm::kernels {

// Per channel: moments [C] (biased variance), invstd [C] = 1 / sigma_B, r [C], d [C] from the
// moving mean and sigma [C] = sqrt(moving_var + eps), and y = gamma * (r * xhat + d) + beta,
// max(y, 0) with relu.
template <typename T>
void batch_renorm_forward_train_ref(const T* x, const Extents& e, const double* gamma,
                                    const double* beta, const double* moving_mean,
                                    const double* moving_sigma, double eps, double rmax,
                                    double dmax, bool relu, T* y, Moments* moments, double* invstd,
                                    double* r, double* d);

// dgamma, dbeta [C] always written; dx nullable. r and d are constants.
template <typename T>
void batch_renorm_backward_ref(const T* x, const T* dy, const Extents& e, const double* mean,
                               const double* invstd, const double* r, const double* d,
                               const double* gamma, const double* beta, bool relu, T* dx,
                               double* dgamma, double* dbeta);

}  // namespace bnorm::kernels
