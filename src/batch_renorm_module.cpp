// The BatchRenorm module: a BatchNorm holds parameters and moving statistics; batch modes run the
// renorm functional calls on them, running-statistics modes are BatchNorm's own.
#include <cmath>

#include "api_checks.hpp"
#include "bnorm/batch_renorm.hpp"
#include "check.hpp"

namespace bnorm {
namespace {

using detail::check;

const BatchNormOptions& checked(const BatchNormOptions& o) {
  constexpr std::string_view op = "BatchRenorm";
  check(o.momentum.has_value(), op,
        "expected a momentum (the rate alpha of the moving statistics; the paper uses 0.01), got "
        "std::nullopt (a cumulative average is not defined for Batch Renorm)");
  check(o.track_running_stats, op,
        "expected track_running_stats = true (r and d are computed from the moving statistics), "
        "got false");
  check(o.gradient_through_stats, op,
        "expected gradient_through_stats = true (r and d are already constants), got false");
  check(!o.check_finite, op, "expected check_finite = false (not supported here), got true");
  return o;
}

}  // namespace

template <typename T>
BatchRenorm<T>::BatchRenorm(const BatchNormOptions& options, const RenormOptions& renorm)
    : bn_(checked(options)), renorm_(renorm) {
  if (renorm_.schedule) renorm_limits_at(*renorm_.schedule, 0);  // throws on a bad schedule
  const auto c = static_cast<size_t>(options.num_features);
  if (options.affine) {
    dgamma_.resize(c);
    dbeta_.resize(c);
  }
}

template <typename T>
void BatchRenorm<T>::set_limits(RenormLimits limits) {
  check(limits.rmax >= 1.0 && limits.dmax >= 0.0, "BatchRenorm::set_limits",
        "expected rmax >= 1 and dmax >= 0, got rmax = ", limits.rmax, ", dmax = ", limits.dmax);
  limits_ = limits;
}

template <typename T>
RenormLimits BatchRenorm<T>::current_limits() const {
  return renorm_.schedule ? renorm_limits_at(*renorm_.schedule, bn_.num_batches_tracked())
                          : limits_;
}

template <typename T>
void BatchRenorm<T>::forward(std::span<const T> x, const TensorDesc& desc, std::span<T> y,
                             Mode mode) {
  const BatchNormOptions& o = bn_.options();
  if (mode == Mode::kInference || mode == Mode::kFrozen) {
    bn_.forward(x, desc, y, mode);
    renormalized_ = false;
    return;
  }
  constexpr std::string_view op = "BatchRenorm::forward";
  check(desc.layout == o.layout, op, "expected input in the module's layout ", to_string(o.layout),
        ", got ", to_string(desc.layout), " (set BatchNormOptions::layout to match the data)");
  const Extents e = extents_of(desc, op);
  check(e.c == o.num_features, op, "expected ", o.num_features,
        " channels (num_features) in dims[1], got ", e.c);
  const auto c = static_cast<size_t>(e.c);
  batch_moments_.resize(c);
  mean_.resize(c);
  invstd_.resize(c);
  r_.resize(c);
  d_.resize(c);
  batch_renorm_forward_train<T>(x, desc, bn_.gamma(), bn_.beta(), bn_.running_mean(),
                                bn_.running_var(), o.eps, current_limits(), y, batch_moments_, r_,
                                d_, invstd_, o.backend, o.activation);
  for (size_t i = 0; i < c; ++i) mean_[i] = batch_moments_[i].mean;
  if (mode == Mode::kTrain) {
    update_renorm_moving_stats<T>(batch_moments_, *o.momentum, o.eps, bn_.running_mean(),
                                  bn_.running_var());
    bn_.set_num_batches_tracked(bn_.num_batches_tracked() + 1);
  }
  renormalized_ = true;
  last_input_.remember(x, desc);
}

template <typename T>
void BatchRenorm<T>::backward(std::span<const T> x, std::span<const T> dy, std::span<T> dx) {
  if (!renormalized_) {
    bn_.backward(x, dy, dx);  // throws when there was no forward at all
    return;
  }
  detail::check_forward_input(last_input_, x, "BatchRenorm::backward");
  const BatchNormOptions& o = bn_.options();
  batch_renorm_backward<T>(x, dy, last_input_.desc, mean_, invstd_, r_, d_, bn_.gamma(), dx,
                           dgamma_, dbeta_, o.backend, o.activation, bn_.beta());
  std::span<T> grad_gamma = bn_.grad_gamma(), grad_beta = bn_.grad_beta();
  for (size_t i = 0; i < dgamma_.size(); ++i) {
    grad_gamma[i] += dgamma_[i];
    grad_beta[i] += dbeta_[i];
  }
}

template class BatchRenorm<float>;
template class BatchRenorm<double>;

}  // namespace bnorm
