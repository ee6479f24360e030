// The stateless Batch Renormalization calls and the schedule of its limits. The optimized path
// runs BatchNorm's kernels: the training kernel for the batch moments, then the per-channel
// affine map y = (gamma * r) * xhat + (gamma * d + beta) with the inference kernel, and
// BatchNorm's backward with gamma * r as the scale. Backend::kReference runs the naive kernels
// of kernels/ref/batch_renorm_ref.cpp instead.
#include "bnorm/batch_renorm.hpp"

#include <algorithm>
#include <cmath>

#include "api_checks.hpp"
#include "functional_internal.hpp"
#include "kernels/ref/batch_renorm_ref.hpp"

namespace bnorm {
namespace {

using detail::check;
using detail::check_optional_size;
using detail::check_size;

void check_limits(RenormLimits limits, std::string_view op) {
  check(limits.rmax >= 1.0 && std::isfinite(limits.rmax), op,
        "expected rmax >= 1 (r is clipped to [1/rmax, rmax]), got ", limits.rmax);
  check(limits.dmax >= 0.0 && std::isfinite(limits.dmax), op,
        "expected dmax >= 0 (d is clipped to [-dmax, dmax]), got ", limits.dmax);
}

// Linear from `from` at step a to `to` at step b, constant outside.
double ramp(int64_t step, int64_t a, int64_t b, double from, double to) {
  if (step <= a) return from;
  if (step >= b) return to;
  return from + (to - from) * static_cast<double>(step - a) / static_cast<double>(b - a);
}

}  // namespace

RenormLimits renorm_limits_at(const RenormSchedule& s, int64_t step) {
  constexpr std::string_view op = "renorm_limits_at";
  check(step >= 0, op, "expected step >= 0, got ", step);
  check(s.warmup_steps >= 0, op, "expected warmup_steps >= 0, got ", s.warmup_steps);
  check(s.rmax_final_step >= s.warmup_steps && s.dmax_final_step >= s.warmup_steps, op,
        "expected rmax_final_step and dmax_final_step >= warmup_steps (", s.warmup_steps, "), got ",
        s.rmax_final_step, " and ", s.dmax_final_step);
  check_limits({s.rmax_final, s.dmax_final}, op);
  return {ramp(step, s.warmup_steps, s.rmax_final_step, 1.0, s.rmax_final),
          ramp(step, s.warmup_steps, s.dmax_final_step, 0.0, s.dmax_final)};
}

template <typename T>
void batch_renorm_forward_train(std::span<const T> x, const TensorDesc& desc,
                                std::span<const T> gamma, std::span<const T> beta,
                                std::span<const T> moving_mean, std::span<const T> moving_var,
                                double eps, RenormLimits limits, std::span<T> y,
                                std::span<Moments> batch_moments, std::span<double> r,
                                std::span<double> d, std::span<double> save_invstd, Backend backend,
                                Activation activation) {
  constexpr std::string_view op = "batch_renorm_forward_train";
  const Extents e = extents_of(desc, op);
  check_size(x, e.numel(), op, "x");
  check_size(y, e.numel(), op, "y");
  check(!detail::overlap(x, y), op, "expected y not to overlap x, got overlapping buffers");
  check_optional_size(gamma, e.c, op, "gamma");
  check_optional_size(beta, e.c, op, "beta");
  check_size(moving_mean, e.c, op, "moving_mean");
  check_size(moving_var, e.c, op, "moving_var");
  check_size(batch_moments, e.c, op, "batch_moments");
  check_size(r, e.c, op, "r");
  check_size(d, e.c, op, "d");
  check_optional_size(save_invstd, e.c, op, "save_invstd");
  detail::check_eps<T>(eps, op);
  check_limits(limits, op);
  check(e.per_channel() > 1, op,
        "expected more than 1 value per channel when training, got N * spatial = ", e.per_channel(),
        " (batch statistics of one value have no variance)");
  const auto c = static_cast<size_t>(e.c);
  std::vector<double> mu(c), sigma(c);
  for (size_t i = 0; i < c; ++i) {
    check(!(moving_var[i] < 0), op, "expected moving_var >= 0, got moving_var[", i,
          "] = ", moving_var[i]);
    mu[i] = static_cast<double>(moving_mean[i]);
    sigma[i] = std::sqrt(static_cast<double>(moving_var[i]) + eps);
  }
  const std::vector<double> g = detail::channel_values(gamma, e.c, 1.0);
  const std::vector<double> b = detail::channel_values(beta, e.c, 0.0);
  std::vector<double> invstd_buffer(save_invstd.empty() ? c : 0);
  double* invstd = save_invstd.empty() ? invstd_buffer.data() : save_invstd.data();
  const bool relu = activation == Activation::kRelu;
  if (backend == Backend::kReference) {
    kernels::batch_renorm_forward_train_ref(
        x.data(), e, g.data(), b.data(), mu.data(), sigma.data(), eps, limits.rmax, limits.dmax,
        relu, y.data(), batch_moments.data(), invstd, r.data(), d.data());
    return;
  }
  const kernels::KernelSet<T>& k = detail::select_kernels<T>(e, backend);
  // Moments and 1/sigma_B from the training kernel (its y = xhat is overwritten below).
  const std::vector<double> ones(c, 1.0), zeros(c, 0.0);
  k.forward_train(x.data(), e, ones.data(), zeros.data(), eps, false, y.data(),
                  batch_moments.data(), invstd);
  std::vector<double> mean(c), scale(c), shift(c);
  for (size_t i = 0; i < c; ++i) {
    mean[i] = batch_moments[i].mean;
    r[i] = std::clamp(1.0 / (invstd[i] * sigma[i]), 1.0 / limits.rmax, limits.rmax);
    d[i] = std::clamp((mean[i] - mu[i]) / sigma[i], -limits.dmax, limits.dmax);
    scale[i] = g[i] * r[i];
    shift[i] = g[i] * d[i] + b[i];
  }
  k.forward_infer(x.data(), e, mean.data(), invstd, scale.data(), shift.data(), relu, y.data());
}

template <typename T>
void update_renorm_moving_stats(std::span<const Moments> batch, double alpha, double eps,
                                std::span<T> moving_mean, std::span<T> moving_var) {
  constexpr std::string_view op = "update_renorm_moving_stats";
  const auto c = static_cast<int64_t>(batch.size());
  check(c > 0, op, "expected at least one channel, got empty batch moments");
  check_size(moving_mean, c, op, "moving_mean");
  check_size(moving_var, c, op, "moving_var");
  check(alpha >= 0.0 && alpha <= 1.0, op, "expected 0 <= alpha <= 1, got ", alpha);
  detail::check_eps<T>(eps, op);
  for (size_t i = 0; i < batch.size(); ++i) {
    check(batch[i].count > 0, op, "expected batch counts > 0, got ", batch[i].count,
          " for channel ", i);
    check(!(moving_var[i] < 0), op, "expected moving_var >= 0, got moving_var[", i,
          "] = ", moving_var[i]);
    const double mu = static_cast<double>(moving_mean[i]);
    const double sigma = std::sqrt(static_cast<double>(moving_var[i]) + eps);
    const double sigma_b = std::sqrt(batch[i].variance() + eps);
    const double new_sigma = sigma + alpha * (sigma_b - sigma);
    moving_mean[i] = static_cast<T>(mu + alpha * (batch[i].mean - mu));
    // Both sigmas are >= sqrt(eps), so is their blend: max() only absorbs rounding.
    moving_var[i] = static_cast<T>(std::max(new_sigma * new_sigma - eps, 0.0));
  }
}

template <typename T>
void batch_renorm_backward(std::span<const T> x, std::span<const T> dy, const TensorDesc& desc,
                           std::span<const double> mean, std::span<const double> invstd,
                           std::span<const double> r, std::span<const double> d,
                           std::span<const T> gamma, std::span<T> dx, std::span<T> dgamma,
                           std::span<T> dbeta, Backend backend, Activation activation,
                           std::span<const T> beta) {
  constexpr std::string_view op = "batch_renorm_backward";
  const Extents e = extents_of(desc, op);
  check_size(x, e.numel(), op, "x");
  check_size(dy, e.numel(), op, "dy");
  check_optional_size(dx, e.numel(), op, "dx");
  check(!detail::overlap(x, dx), op, "expected dx not to overlap x, got overlapping buffers");
  check(dx.data() == dy.data() || !detail::overlap(dy, dx), op,
        "expected dx to be dy itself (in place) or not to overlap it, got partly overlapping "
        "buffers");
  for (auto [v, name] : {std::pair{mean, "mean"}, {invstd, "invstd"}, {r, "r"}, {d, "d"}}) {
    check_size(v, e.c, op, name);
  }
  check_optional_size(gamma, e.c, op, "gamma");
  check_optional_size(beta, e.c, op, "beta");
  check_optional_size(dgamma, e.c, op, "dgamma");
  check_optional_size(dbeta, e.c, op, "dbeta");
  const auto c = static_cast<size_t>(e.c);
  const std::vector<double> g = detail::channel_values(gamma, e.c, 1.0);
  const std::vector<double> b = detail::channel_values(beta, e.c, 0.0);
  const bool relu = activation == Activation::kRelu;
  T* dx_out = dx.empty() ? nullptr : dx.data();
  std::vector<double> sum_dy_xhat(c), sum_dy(c);
  if (backend == Backend::kReference) {
    // The reference returns dgamma itself (sum dy * (r * xhat + d)) in sum_dy_xhat.
    kernels::batch_renorm_backward_ref(x.data(), dy.data(), e, mean.data(), invstd.data(), r.data(),
                                       d.data(), g.data(), b.data(), relu, dx_out,
                                       sum_dy_xhat.data(), sum_dy.data());
    for (size_t i = 0; i < dgamma.size(); ++i) dgamma[i] = static_cast<T>(sum_dy_xhat[i]);
  } else {
    std::vector<double> scale(c), shift(c);
    for (size_t i = 0; i < c; ++i) {
      scale[i] = g[i] * r[i];
      shift[i] = g[i] * d[i] + b[i];  // read by the relu mask, which recomputes y
    }
    detail::select_kernels<T>(e, backend)
        .backward(x.data(), dy.data(), e, mean.data(), invstd.data(), scale.data(), shift.data(),
                  relu, true, dx_out, sum_dy_xhat.data(), sum_dy.data());
    for (size_t i = 0; i < dgamma.size(); ++i) {
      dgamma[i] = static_cast<T>(r[i] * sum_dy_xhat[i] + d[i] * sum_dy[i]);
    }
  }
  for (size_t i = 0; i < dbeta.size(); ++i) dbeta[i] = static_cast<T>(sum_dy[i]);
}

#define BNORM_INSTANTIATE(T)                                                                \
  template void batch_renorm_forward_train<T>(                                              \
      std::span<const T>, const TensorDesc&, std::span<const T>, std::span<const T>,        \
      std::span<const T>, std::span<const T>, double, RenormLimits, std::span<T>,           \
      std::span<Moments>, std::span<double>, std::span<double>, std::span<double>, Backend, \
      Activation);                                                                          \
  template void update_renorm_moving_stats<T>(std::span<const Moments>, double, double,     \
                                              std::span<T>, std::span<T>);                  \
  template void batch_renorm_backward<T>(                                                   \
      std::span<const T>, std::span<const T>, const TensorDesc&, std::span<const double>,   \
      std::span<const double>, std::span<const double>, std::span<const double>,            \
      std::span<const T>, std::span<T>, std::span<T>, std::span<T>, Backend, Activation,    \
      std::span<const T>);

BNORM_INSTANTIATE(float)
BNORM_INSTANTIATE(double)

}  // namespace bnorm
