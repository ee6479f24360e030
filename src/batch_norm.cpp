// The BatchNorm module: parameters, running statistics and modes on top of the functional API, for
// float, double and bfloat16 data (bfloat16 with float32 parameters and statistics).
#include "bnorm/batch_norm.hpp"

#include <cmath>
#include <limits>

#include "api_checks.hpp"
#include "check.hpp"
#include "functional_internal.hpp"

namespace bnorm {
namespace {

using detail::check;

std::string_view mode_name(Mode mode) {
  switch (mode) {
    case Mode::kTrain:
      return "Mode::kTrain";
    case Mode::kBatchStats:
      return "Mode::kBatchStats";
    case Mode::kInference:
      return "Mode::kInference";
    case Mode::kFrozen:
      return "Mode::kFrozen";
  }
  return "unknown mode";
}

bool uses_batch_stats(Mode mode) { return mode == Mode::kTrain || mode == Mode::kBatchStats; }

// Throws naming the first channel (lowest index) holding NaN or Inf, and where.
template <typename T>
void check_all_finite(std::span<const T> x, const Extents& e) {
  for (int64_t c = 0; c < e.c; ++c) {
    for (int64_t n = 0; n < e.n; ++n) {
      for (int64_t s = 0; s < e.s; ++s) {
        const auto v = static_cast<double>(x[static_cast<size_t>(e.offset(n, c, s))]);
        check(std::isfinite(v), "BatchNorm", "expected finite input (check_finite is on), got ", v,
              " in channel ", c, " at sample ", n, ", spatial position ", s);
      }
    }
  }
}

}  // namespace

double momentum_from_decay(double decay) {
  check(decay >= 0.0 && decay <= 1.0, "momentum_from_decay", "expected decay in [0, 1], got ",
        decay);
  return 1.0 - decay;
}

template <typename T>
BatchNorm<T>::BatchNorm(const BatchNormOptions& options) : options_(options) {
  constexpr std::string_view op = "BatchNorm";
  check(options.num_features > 0, op, "expected num_features > 0, got ", options.num_features);
  // eps below Param's smallest normal underflows, and 1/sqrt(eps) of a constant channel overflows.
  check(std::isfinite(options.eps) && options.eps >= std::numeric_limits<Param>::min() &&
            options.eps <= std::numeric_limits<Param>::max(),
        op, "expected eps > 0 and at least ", std::numeric_limits<Param>::min(),
        " (the smallest normal number of the data type), got ", options.eps);
  if (options.momentum) {
    check(*options.momentum >= 0.0 && *options.momentum <= 1.0, op,
          "expected momentum in [0, 1] (or std::nullopt for a cumulative average), got ",
          *options.momentum);
  }
  const auto c = static_cast<size_t>(options.num_features);
  if (options.affine) {
    gamma_.assign(c, Param(1));
    beta_.assign(c, Param(0));
    grad_gamma_.assign(c, Param(0));
    grad_beta_.assign(c, Param(0));
    scratch_dgamma_.resize(c);
    scratch_dbeta_.resize(c);
  }
  if (options.track_running_stats) reset_running_stats();
}

template <typename T>
void BatchNorm<T>::reset_running_stats() {
  const auto c = static_cast<size_t>(options_.num_features);
  running_mean_.assign(c, Param(0));
  running_var_.assign(c, Param(1));
  num_batches_tracked_ = 0;
}

template <typename T>
void BatchNorm<T>::zero_grad() {
  std::fill(grad_gamma_.begin(), grad_gamma_.end(), Param(0));
  std::fill(grad_beta_.begin(), grad_beta_.end(), Param(0));
}

template <typename T>
void BatchNorm<T>::check_input(std::span<const T> x, const TensorDesc& desc, std::span<const T> y,
                               Mode mode, Extents* extents) const {
  constexpr std::string_view op = "BatchNorm::forward";
  check(desc.layout == options_.layout, op, "expected input in the module's layout ",
        to_string(options_.layout), ", got ", to_string(desc.layout),
        " (set BatchNormOptions::layout to match the data)");
  *extents = extents_of(desc, op);
  check(extents->c == options_.num_features, op, "expected ", options_.num_features,
        " channels (num_features) in dims[1], got ", extents->c);
  check(static_cast<int64_t>(x.size()) == extents->numel(), op, "expected x to hold ",
        extents->numel(), " elements, got ", x.size());
  check(static_cast<int64_t>(y.size()) == extents->numel(), op, "expected y to hold ",
        extents->numel(), " elements, got ", y.size());
  check(options_.track_running_stats || mode == Mode::kBatchStats, op, "expected ", mode_name(mode),
        " to have running statistics, got a module built with "
        "track_running_stats = false; use Mode::kBatchStats");
  check(!(estimating_population_ && mode == Mode::kTrain), op,
        "expected Mode::kBatchStats during a population estimate, got Mode::kTrain "
        "(call end_population_estimate() first)");
}

template <typename T>
void BatchNorm<T>::forward(std::span<const T> x, const TensorDesc& desc, std::span<T> y,
                           Mode mode) {
  Extents e;
  check_input(x, desc, y, mode, &e);
  if (options_.check_finite) check_all_finite(x, e);
  const auto c = static_cast<size_t>(e.c);
  saved_mean_.resize(c);
  saved_invstd_.resize(c);
  if (uses_batch_stats(mode)) {
    batch_moments_.resize(c);
    // The kernel writes saved_invstd_: a small layer (60 x 100) would otherwise spend a tenth of
    // its time on a second sqrt and division per channel.
    // check_input checked desc and the sizes of x and y: the functional layer checks the rest.
    detail::forward_train_sized<T>(x, e, gamma_, beta_, options_.eps, y, batch_moments_,
                                   options_.backend, options_.activation, saved_invstd_);
    for (size_t i = 0; i < c; ++i) saved_mean_[i] = batch_moments_[i].mean;
    if (mode == Mode::kTrain) update_running_stats();
    if (estimating_population_) {
      for (size_t i = 0; i < c; ++i) {
        population_mean_sum_[i] += batch_moments_[i].mean;
        population_var_sum_[i] += batch_moments_[i].unbiased_variance();
      }
      ++population_batches_;
    }
  } else {
    detail::forward_infer_sized<T>(x, e, running_mean_, running_var_, gamma_, beta_, options_.eps,
                                   y, options_.backend, options_.activation);
    for (size_t i = 0; i < c; ++i) {
      saved_mean_[i] = static_cast<double>(running_mean_[i]);
      saved_invstd_[i] = 1.0 / std::sqrt(static_cast<double>(running_var_[i]) + options_.eps);
    }
  }
  has_forward_ = true;
  last_input_.remember(x, desc);
  last_mode_ = mode;
}

// PyTorch's update: running = (1 - f) * running + f * batch, with the unbiased batch variance and
// f = momentum, or f = 1 / num_batches_tracked for the cumulative average.
template <typename T>
void BatchNorm<T>::update_running_stats() {
  ++num_batches_tracked_;
  const double f =
      options_.momentum ? *options_.momentum : 1.0 / static_cast<double>(num_batches_tracked_);
  bnorm::update_running_stats<Param>(batch_moments_, f, running_mean_, running_var_);
}

template <typename T>
void BatchNorm<T>::backward(std::span<const T> x, std::span<const T> dy, std::span<T> dx) {
  check(has_forward_, "BatchNorm::backward", "expected a forward() before backward(), got none");
  // The saved statistics belong to the forward's input; another tensor would get wrong gradients.
  detail::check_forward_input(last_input_, x, "BatchNorm::backward");
  const bool through = uses_batch_stats(last_mode_) && options_.gradient_through_stats;
  const bool wants_param_grads = options_.affine && last_mode_ != Mode::kFrozen;
  detail::backward_checked<T>(
      x, dy, last_input_.desc, saved_mean_, saved_invstd_, gamma_,
      through ? StatsGradient::kThroughBatchStats : StatsGradient::kStatsAsConstants, dx,
      wants_param_grads ? std::span<Param>(scratch_dgamma_) : std::span<Param>(),
      wants_param_grads ? std::span<Param>(scratch_dbeta_) : std::span<Param>(), options_.backend,
      options_.activation, std::span<const Param>(beta_));
  if (!wants_param_grads) return;
  for (size_t i = 0; i < grad_gamma_.size(); ++i) {
    grad_gamma_[i] += scratch_dgamma_[i];
    grad_beta_[i] += scratch_dbeta_[i];
  }
}

template <typename T>
AffineMap BatchNorm<T>::inference_affine() const {
  check(options_.track_running_stats, "BatchNorm::inference_affine",
        "expected running statistics, got a module built with track_running_stats = false");
  return bnorm::inference_affine<Param>(running_mean_, running_var_, gamma_, beta_, options_.eps);
}

template <typename T>
void BatchNorm<T>::begin_population_estimate() {
  check(options_.track_running_stats, "BatchNorm::begin_population_estimate",
        "expected running statistics to write the estimate into, got a module built with "
        "track_running_stats = false");
  estimating_population_ = true;
  population_batches_ = 0;
  population_mean_sum_.assign(static_cast<size_t>(options_.num_features), 0.0);
  population_var_sum_.assign(static_cast<size_t>(options_.num_features), 0.0);
}

template <typename T>
int64_t BatchNorm<T>::end_population_estimate() {
  constexpr std::string_view op = "BatchNorm::end_population_estimate";
  check(estimating_population_, op, "expected begin_population_estimate() first, got none");
  estimating_population_ = false;
  check(population_batches_ > 0, op,
        "expected at least one forward(Mode::kBatchStats) since begin_population_estimate(), got "
        "none; running statistics are unchanged");
  const double b = static_cast<double>(population_batches_);
  for (size_t i = 0; i < running_mean_.size(); ++i) {
    running_mean_[i] = static_cast<Param>(population_mean_sum_[i] / b);
    running_var_[i] = static_cast<Param>(population_var_sum_[i] / b);
  }
  return population_batches_;
}

template class BatchNorm<float>;
template class BatchNorm<double>;
template class BatchNorm<bfloat16>;

}  // namespace bnorm
