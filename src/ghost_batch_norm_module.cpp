// The GhostBatchNorm module: a BatchNorm holds parameters and running statistics; batch modes run
// the ghost functional calls, running-statistics modes are BatchNorm's own.
#include <cmath>

#include "api_checks.hpp"
#include "bnorm/ghost_batch_norm.hpp"
#include "check.hpp"

namespace bnorm {
namespace {

using detail::check;

const BatchNormOptions& checked(const BatchNormOptions& o, int64_t ghost_batch_size) {
  constexpr std::string_view op = "GhostBatchNorm";
  check(ghost_batch_size > 0, op, "expected ghost_batch_size > 0, got ", ghost_batch_size);
  check(!o.check_finite, op, "expected check_finite = false (not supported here), got true");
  return o;
}

}  // namespace

template <typename T>
GhostBatchNorm<T>::GhostBatchNorm(const BatchNormOptions& options, int64_t ghost_batch_size)
    : bn_(checked(options, ghost_batch_size)), ghost_batch_size_(ghost_batch_size) {
  if (options.affine) {
    dgamma_.resize(static_cast<size_t>(options.num_features));
    dbeta_.resize(static_cast<size_t>(options.num_features));
  }
}

template <typename T>
void GhostBatchNorm<T>::forward(std::span<const T> x, const TensorDesc& desc, std::span<T> y,
                                Mode mode) {
  const BatchNormOptions& o = bn_.options();
  if (mode == Mode::kInference || mode == Mode::kFrozen) {
    bn_.forward(x, desc, y, mode);
    ghosted_ = false;
    return;
  }
  constexpr std::string_view op = "GhostBatchNorm::forward";
  check(desc.layout == o.layout, op, "expected input in the module's layout ", to_string(o.layout),
        ", got ", to_string(desc.layout), " (set BatchNormOptions::layout to match the data)");
  const Extents e = extents_of(desc, op);
  check(e.c == o.num_features, op, "expected ", o.num_features,
        " channels (num_features) in dims[1], got ", e.c);
  check(o.track_running_stats || mode == Mode::kBatchStats, op,
        "expected Mode::kTrain to have running statistics, got a module built with "
        "track_running_stats = false; use Mode::kBatchStats");
  const auto kc = static_cast<size_t>(ghost_batch_count(e.n, ghost_batch_size_) * e.c);
  ghost_moments_.resize(kc);
  mean_.resize(kc);
  invstd_.resize(kc);
  ghost_batch_norm_forward_train<T>(x, desc, ghost_batch_size_, bn_.gamma(), bn_.beta(), o.eps, y,
                                    ghost_moments_, invstd_, o.backend, o.activation);
  for (size_t i = 0; i < kc; ++i) mean_[i] = ghost_moments_[i].mean;
  if (mode == Mode::kTrain) {
    const auto c = static_cast<size_t>(e.c);
    for (size_t g = 0; g * c < kc; ++g) {
      const int64_t k = bn_.num_batches_tracked() + 1;
      bn_.set_num_batches_tracked(k);
      const double f = o.momentum ? *o.momentum : 1.0 / static_cast<double>(k);
      update_running_stats<T>(std::span<const Moments>(ghost_moments_).subspan(g * c, c), f,
                              bn_.running_mean(), bn_.running_var());
    }
  }
  ghosted_ = true;
  last_input_.remember(x, desc);
}

template <typename T>
void GhostBatchNorm<T>::backward(std::span<const T> x, std::span<const T> dy, std::span<T> dx) {
  if (!ghosted_) {
    bn_.backward(x, dy, dx);  // throws when there was no forward at all
    return;
  }
  detail::check_forward_input(last_input_, x, "GhostBatchNorm::backward");
  const BatchNormOptions& o = bn_.options();
  ghost_batch_norm_backward<T>(x, dy, last_input_.desc, ghost_batch_size_, mean_, invstd_,
                               bn_.gamma(),
                               o.gradient_through_stats ? StatsGradient::kThroughBatchStats
                                                        : StatsGradient::kStatsAsConstants,
                               dx, dgamma_, dbeta_, o.backend, o.activation, bn_.beta());
  std::span<T> grad_gamma = bn_.grad_gamma(), grad_beta = bn_.grad_beta();
  for (size_t i = 0; i < dgamma_.size(); ++i) {
    grad_gamma[i] += dgamma_[i];
    grad_beta[i] += dbeta_[i];
  }
}

template class GhostBatchNorm<float>;
template class GhostBatchNorm<double>;

}  // namespace bnorm
