// Batch Renormalization (Ioffe 2017): BatchNorm whose training output is corrected towards the
// moving statistics, so that training and inference compute the same function even for small or
// non-i.i.d. batches. Functional calls (stateless, as functional.hpp) and a module.
//
// With the biased batch variance var_B (BatchNorm's) and, per channel,
//   mu_B = batch mean,                   sigma_B = sqrt(var_B + eps)
//   mu   = moving mean,                  sigma   = sqrt(moving_var + eps)
//   r = clip(sigma_B / sigma, 1/rmax, rmax)         d = clip((mu_B - mu) / sigma, -dmax, dmax)
//   y = gamma * (r * (x - mu_B) / sigma_B + d) + beta
// r and d are constants in the backward (the paper's stop_gradient). sigma includes eps for the
// batch and the moving statistics alike, as in the paper, so inference
// y = gamma * (x - mu) / sigma + beta is exactly BatchNorm inference with running_var = moving_var.
// With rmax = 1 and dmax = 0 (r = 1, d = 0) this is BatchNorm.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "bnorm/batch_norm.hpp"
#include "bnorm/functional.hpp"
#include "bnorm/layout.hpp"
#include "bnorm/moments.hpp"

namespace bnorm {

// The clipping limits of one training step: rmax >= 1, dmax >= 0.
struct RenormLimits {
  double rmax = 1.0;
  double dmax = 0.0;
};

// The paper's relaxation of the limits (Sec. 4.1): rmax = 1, dmax = 0 for warmup_steps steps,
// then raised linearly to rmax_final at step rmax_final_step and to dmax_final at
// dmax_final_step, constant after. Defaults are the paper's ImageNet values; a shorter run
// scales the steps.
struct RenormSchedule {
  int64_t warmup_steps = 5000;
  int64_t rmax_final_step = 40000;
  int64_t dmax_final_step = 25000;
  double rmax_final = 3.0;
  double dmax_final = 5.0;
};

// The limits at training step `step` (0-based: the number of training steps before this one).
// Throws bnorm::Error when step < 0, warmup_steps < 0, a final step is below warmup_steps,
// rmax_final < 1 or dmax_final < 0.
RenormLimits renorm_limits_at(const RenormSchedule& schedule, int64_t step);

// Training forward. mu_B, var_B per channel go to batch_moments [C]; with moving_mean and
// moving_var [C] (var >= 0) and limits, r [C] and d [C] are overwritten with the values used (what
// batch_renorm_backward takes), and y with the output. save_invstd: empty, or [C] overwritten
// with 1 / sigma_B. gamma, beta: [C] or empty (no affine). Requires N * spatial > 1, eps > 0,
// rmax >= 1, dmax >= 0. Activation::kRelu: y = max(y, 0) as in batch_norm_forward_train.
// The moving statistics are not updated: update_renorm_moving_stats does that.
template <typename T>
void batch_renorm_forward_train(std::span<const T> x, const TensorDesc& desc,
                                std::span<const T> gamma, std::span<const T> beta,
                                std::span<const T> moving_mean, std::span<const T> moving_var,
                                double eps, RenormLimits limits, std::span<T> y,
                                std::span<Moments> batch_moments, std::span<double> r,
                                std::span<double> d, std::span<double> save_invstd = {},
                                Backend backend = Backend::kAuto,
                                Activation activation = Activation::kNone);

// The paper's moving-average update with rate alpha in [0, 1], per channel c:
//   mu    += alpha * (mu_B - mu)
//   sigma += alpha * (sigma_B - sigma),  stored back as moving_var = sigma^2 - eps (>= 0)
// with sigma_B = sqrt(batch[c].variance() + eps) (biased, as the forward normalizes with).
// batch: [C] from batch_renorm_forward_train; moving_mean, moving_var: [C], updated in place.
template <typename T>
void update_renorm_moving_stats(std::span<const Moments> batch, double alpha, double eps,
                                std::span<T> moving_mean, std::span<T> moving_var);

// Backward with r and d as constants. mean [C] = mu_B, invstd [C] = 1 / sigma_B, r, d [C] from
// the forward. With xhat = (x - mu_B) / sigma_B and M = N * spatial:
//   dbeta = sum dy          dgamma = r * sum dy * xhat + d * sum dy
//   dx = gamma * r / sigma_B * (dy - sum dy / M - xhat * sum dy * xhat / M)
// i.e. BatchNorm's backward with gamma * r as the scale. dx, dgamma, dbeta may each be empty;
// what is given is overwritten. Activation::kRelu: dy is the gradient of max(y, 0) (beta: the
// forward's, [C] or empty, read to recompute y).
template <typename T>
void batch_renorm_backward(std::span<const T> x, std::span<const T> dy, const TensorDesc& desc,
                           std::span<const double> mean, std::span<const double> invstd,
                           std::span<const double> r, std::span<const double> d,
                           std::span<const T> gamma, std::span<T> dx, std::span<T> dgamma,
                           std::span<T> dbeta, Backend backend = Backend::kAuto,
                           Activation activation = Activation::kNone, std::span<const T> beta = {});

// How a BatchRenorm module picks each training step's limits.
struct RenormOptions {
  // Evaluated at num_batches_tracked() (the training steps so far, saved with the running
  // statistics). Unset: the module uses the limits last given to set_limits() (initially rmax = 1,
  // dmax = 0), for callers with their own schedule.
  std::optional<RenormSchedule> schedule = RenormSchedule{};
};

// Batch Renormalization as a module. Parameters and the moving statistics live in base(), a
// plain BatchNorm: running_mean = mu, running_var = sigma^2 - eps (biased, see the top of this
// file), num_batches_tracked = training steps. So Mode::kInference and kFrozen, checkpoints,
// inference_affine() and folding behave as BatchNorm's.
// options.momentum is the paper's rate alpha (it suggests 0.01) and must be set (a cumulative
// average is not defined for sigma). gradient_through_stats = false and check_finite are not
// supported (the constructor throws).
template <typename T>  // float or double
class BatchRenorm {
 public:
  BatchRenorm(const BatchNormOptions& options, const RenormOptions& renorm = {});

  // Mode::kTrain: renormalized batch statistics, moving statistics updated, one step counted.
  // Mode::kBatchStats: the same output, nothing updated. kInference/kFrozen: base().forward().
  // Shapes and aliasing as BatchNorm::forward.
  void forward(std::span<const T> x, const TensorDesc& desc, std::span<T> y, Mode mode);
  // As BatchNorm::backward: dx overwritten, dgamma/dbeta accumulated into grad_gamma/grad_beta.
  void backward(std::span<const T> x, std::span<const T> dy, std::span<T> dx);

  // The limits for steps without a schedule. Throws unless rmax >= 1 and dmax >= 0.
  void set_limits(RenormLimits limits);
  // The limits the next Mode::kTrain forward uses.
  RenormLimits current_limits() const;
  // r and d [C] of the last forward in a batch mode.
  std::span<const double> last_r() const { return r_; }
  std::span<const double> last_d() const { return d_; }

  BatchNorm<T>& base() { return bn_; }
  const BatchNorm<T>& base() const { return bn_; }
  std::span<T> gamma() { return bn_.gamma(); }
  std::span<T> beta() { return bn_.beta(); }
  std::span<T> grad_gamma() { return bn_.grad_gamma(); }
  std::span<T> grad_beta() { return bn_.grad_beta(); }
  void zero_grad() { bn_.zero_grad(); }
  std::span<T> running_mean() { return bn_.running_mean(); }
  std::span<T> running_var() { return bn_.running_var(); }
  int64_t num_batches_tracked() const { return bn_.num_batches_tracked(); }

 private:
  BatchNorm<T> bn_;
  RenormOptions renorm_;
  RenormLimits limits_;
  bool renormalized_ = false;  // whether the last forward was a batch mode (ours) or base()'s
  detail::ForwardInput<T> last_input_;
  std::vector<Moments> batch_moments_;
  std::vector<double> mean_, invstd_, r_, d_;
  std::vector<T> dgamma_, dbeta_;
};

extern template class BatchRenorm<float>;
extern template class BatchRenorm<double>;

}  // namespace bnorm
