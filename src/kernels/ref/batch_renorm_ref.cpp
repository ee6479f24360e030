// Reference Batch Renormalization kernels (Ioffe 2017, Algorithm 1): two passes for the moments,
// then the output; the backward as the paper's chain rule through mu_B and sigma_B with r and d
// held constant. Slow on purpose: the optimized path is tested against these.
#include "kernels/ref/batch_renorm_ref.hpp"

#include <algorithm>
#include <cmath>

namespace bnorm::kernels {

template <typename T>
void batch_renorm_forward_train_ref(const T* x, const Extents& e, const double* gamma,
                                    const double* beta, const double* moving_mean,
                                    const double* moving_sigma, double eps, double rmax,
                                    double dmax, bool relu, T* y, Moments* moments, double* invstd,
                                    double* r, double* d) {
  const double m = static_cast<double>(e.per_channel());
  for (int64_t c = 0; c < e.c; ++c) {
    double sum = 0.0;
    for (int64_t n = 0; n < e.n; ++n)
      for (int64_t s = 0; s < e.s; ++s) sum += static_cast<double>(x[e.offset(n, c, s)]);
    const double mean = sum / m;
    double m2 = 0.0;
    for (int64_t n = 0; n < e.n; ++n) {
      for (int64_t s = 0; s < e.s; ++s) {
        const double dev = static_cast<double>(x[e.offset(n, c, s)]) - mean;
        m2 += dev * dev;
      }
    }
    moments[c] = {e.per_channel(), mean, m2};
    const double sigma_b = std::sqrt(m2 / m + eps);
    invstd[c] = 1.0 / sigma_b;
    r[c] = std::clamp(sigma_b / moving_sigma[c], 1.0 / rmax, rmax);
    d[c] = std::clamp((mean - moving_mean[c]) / moving_sigma[c], -dmax, dmax);
    for (int64_t n = 0; n < e.n; ++n) {
      for (int64_t s = 0; s < e.s; ++s) {
        const int64_t i = e.offset(n, c, s);
        const double xhat = (static_cast<double>(x[i]) - mean) / sigma_b;
        const double v = gamma[c] * (r[c] * xhat + d[c]) + beta[c];
        y[i] = static_cast<T>(relu && v < 0.0 ? 0.0 : v);
      }
    }
  }
}

// With g = dL/dxhat_B = dy * gamma * r (xhat_B = (x - mu_B) / sigma_B, r and d constant):
//   dvar  = sum g * (x - mu_B) * (-1/2) * sigma_B^-3
//   dmean = -sum g / sigma_B      (dvar's term through mu_B sums to zero)
//   dx    = g / sigma_B + dvar * 2 (x - mu_B) / M + dmean / M
//   dgamma = sum dy * (r * xhat_B + d),  dbeta = sum dy
template <typename T>
void batch_renorm_backward_ref(const T* x, const T* dy, const Extents& e, const double* mean,
                               const double* invstd, const double* r, const double* d,
                               const double* gamma, const double* beta, bool relu, T* dx,
                               double* dgamma, double* dbeta) {
  const double m = static_cast<double>(e.per_channel());
  for (int64_t c = 0; c < e.c; ++c) {
    const double sigma_b = 1.0 / invstd[c];
    // dy behind the relu: zero where the recomputed output is not > 0.
    const auto upstream = [&](int64_t i) {
      const double xhat = (static_cast<double>(x[i]) - mean[c]) / sigma_b;
      const double v = gamma[c] * (r[c] * xhat + d[c]) + beta[c];
      return relu && !(v > 0.0) ? 0.0 : static_cast<double>(dy[i]);
    };
    double sum_dy = 0.0, sum_dy_out = 0.0, dvar = 0.0, dmean = 0.0;
    for (int64_t n = 0; n < e.n; ++n) {
      for (int64_t s = 0; s < e.s; ++s) {
        const int64_t i = e.offset(n, c, s);
        const double centered = static_cast<double>(x[i]) - mean[c];
        const double g = upstream(i) * gamma[c] * r[c];
        sum_dy += upstream(i);
        sum_dy_out += upstream(i) * (r[c] * centered / sigma_b + d[c]);
        dvar += g * centered * -0.5 / (sigma_b * sigma_b * sigma_b);
        dmean += -g / sigma_b;
      }
    }
    dbeta[c] = sum_dy;
    dgamma[c] = sum_dy_out;
    if (dx == nullptr) continue;
    for (int64_t n = 0; n < e.n; ++n) {
      for (int64_t s = 0; s < e.s; ++s) {
        const int64_t i = e.offset(n, c, s);
        const double centered = static_cast<double>(x[i]) - mean[c];
        const double g = upstream(i) * gamma[c] * r[c];
        dx[i] = static_cast<T>(g / sigma_b + dvar * 2.0 * centered / m + dmean / m);
      }
    }
  }
}

#define BNORM_INSTANTIATE(T)                                                                \
  template void batch_renorm_forward_train_ref<T>(                                          \
      const T*, const Extents&, const double*, const double*, const double*, const double*, \
      double, double, double, bool, T*, Moments*, double*, double*, double*);               \
  template void batch_renorm_backward_ref<T>(                                               \
      const T*, const T*, const Extents&, const double*, const double*, const double*,      \
      const double*, const double*, const double*, bool, T*, double*, double*);

BNORM_INSTANTIATE(float)
BNORM_INSTANTIATE(double)

}  // namespace bnorm::kernels
