// Reference BatchNorm kernels: plain loops over (channel, sample, position), float64
// accumulation, two passes for the variance, one thread. Slow on purpose and kept forever: every
// optimized kernel is tested against these. bfloat16 data is read exactly into float64 and each
// output rounded once, to nearest even, from its float64 value.
#include <cmath>

#include "kernels/kernels.hpp"

namespace bnorm::kernels {
namespace {

template <typename T>
Moments channel_moments(const T* x, const Extents& e, int64_t c) {
  double sum = 0.0;
  for (int64_t n = 0; n < e.n; ++n)
    for (int64_t s = 0; s < e.s; ++s) sum += static_cast<double>(x[e.offset(n, c, s)]);
  const int64_t m = e.per_channel();
  const double mean = sum / static_cast<double>(m);
  double m2 = 0.0;
  for (int64_t n = 0; n < e.n; ++n) {
    for (int64_t s = 0; s < e.s; ++s) {
      const double d = static_cast<double>(x[e.offset(n, c, s)]) - mean;
      m2 += d * d;
    }
  }
  return {m, mean, m2};
}

// max(v, 0) when relu (NaN passes through, as in PyTorch), else v.
double activate(double v, bool relu) { return relu && v < 0.0 ? 0.0 : v; }

template <typename T>
void forward_infer_ref(const T* x, const Extents& e, const double* mean, const double* invstd,
                       const double* gamma, const double* beta, bool relu, T* y) {
  for (int64_t c = 0; c < e.c; ++c) {
    for (int64_t n = 0; n < e.n; ++n) {
      for (int64_t s = 0; s < e.s; ++s) {
        const int64_t i = e.offset(n, c, s);
        const double xhat = (static_cast<double>(x[i]) - mean[c]) * invstd[c];
        y[i] = static_cast<T>(activate(gamma[c] * xhat + beta[c], relu));
      }
    }
  }
}

template <typename T>
void forward_train_ref(const T* x, const Extents& e, const double* gamma, const double* beta,
                       double eps, bool relu, T* y, Moments* moments, double* invstd_out) {
  for (int64_t c = 0; c < e.c; ++c) {
    moments[c] = channel_moments(x, e, c);
    const double mean = moments[c].mean;
    const double invstd = 1.0 / std::sqrt(moments[c].variance() + eps);
    invstd_out[c] = invstd;
    for (int64_t n = 0; n < e.n; ++n) {
      for (int64_t s = 0; s < e.s; ++s) {
        const int64_t i = e.offset(n, c, s);
        const double v = gamma[c] * (static_cast<double>(x[i]) - mean) * invstd + beta[c];
        y[i] = static_cast<T>(activate(v, relu));
      }
    }
  }
}

// With xhat = (x - mean) * invstd and M values per channel:
//   dbeta = sum dy,  dgamma = sum dy * xhat
//   through the batch statistics: dx = gamma * invstd * (dy - dbeta / M - xhat * dgamma / M)
//   (the paper's dL/dx with dL/dvar and dL/dmean substituted); otherwise dx = gamma * invstd * dy.
// Fused relu: dy is first masked to dy * [gamma * xhat + beta > 0], the forward recomputed.
template <typename T>
void backward_ref(const T* x, const T* dy, const Extents& e, const double* mean,
                  const double* invstd, const double* gamma, const double* beta, bool relu,
                  bool through_stats, T* dx, double* dgamma, double* dbeta) {
  const double m = static_cast<double>(e.per_channel());
  // dy behind the relu at element i of channel c.
  const auto masked_dy = [&](int64_t i, int64_t c) {
    const double xhat = (static_cast<double>(x[i]) - mean[c]) * invstd[c];
    return relu && !(gamma[c] * xhat + beta[c] > 0.0) ? 0.0 : static_cast<double>(dy[i]);
  };
  for (int64_t c = 0; c < e.c; ++c) {
    double sum_dy = 0.0;
    double sum_dy_xhat = 0.0;
    for (int64_t n = 0; n < e.n; ++n) {
      for (int64_t s = 0; s < e.s; ++s) {
        const int64_t i = e.offset(n, c, s);
        const double xhat = (static_cast<double>(x[i]) - mean[c]) * invstd[c];
        const double g = masked_dy(i, c);
        sum_dy += g;
        sum_dy_xhat += g * xhat;
      }
    }
    dbeta[c] = sum_dy;
    dgamma[c] = sum_dy_xhat;
    if (dx == nullptr) continue;
    const double k = gamma[c] * invstd[c];
    for (int64_t n = 0; n < e.n; ++n) {
      for (int64_t s = 0; s < e.s; ++s) {
        const int64_t i = e.offset(n, c, s);
        const double g = masked_dy(i, c);
        if (through_stats) {
          const double xhat = (static_cast<double>(x[i]) - mean[c]) * invstd[c];
          dx[i] = static_cast<T>(k * (g - sum_dy / m - xhat * sum_dy_xhat / m));
        } else {
          dx[i] = static_cast<T>(k * g);
        }
      }
    }
  }
}

bool supports_everything(const Extents&) { return true; }

template <typename T>
const KernelSet<T> kReference = {"reference",          CpuIsa::kScalar,      supports_everything,
                                 forward_train_ref<T>, forward_infer_ref<T>, backward_ref<T>};

}  // namespace

template <typename T>
const KernelSet<T>& reference_kernels() {
  return kReference<T>;
}

template const KernelSet<float>& reference_kernels<float>();
template const KernelSet<double>& reference_kernels<double>();
template const KernelSet<bfloat16>& reference_kernels<bfloat16>();

}  // namespace bnorm::kernels
