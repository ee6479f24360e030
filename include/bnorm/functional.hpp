// Stateless BatchNorm operations: the layer below the BatchNorm module, and what benchmarks and
// other frameworks call directly. Like torch.nn.functional.batch_norm and oneDNN's primitives,
// these take every statistic and parameter explicitly and keep no state.
//
// Conventions for every function here:
//  - x, y, dy, dx hold desc's elements in desc.layout order (see layout.hpp); spans must have
//    exactly that many elements.
//  - Per-channel arrays have C = desc.dims[1] elements. gamma/beta may be empty: no affine
//    (gamma = 1, beta = 0), as PyTorch's affine=False.
//  - Outputs are overwritten, never accumulated into. Optional outputs may be empty spans.
//  - float32 and float64 are supported, and bfloat16 data (x, y, dy, dx) with float32 parameters
//    and statistics: the overloads at the end. The reference backend accumulates in float64.
//  - Violations throw bnorm::Error "[batch_norm_<op>] expected ..., got ...".
#pragma once

#include <span>
#include <vector>

#include "bnorm/bfloat16.hpp"
#include "bnorm/layout.hpp"
#include "bnorm/moments.hpp"

namespace bnorm {

// The type of per-channel parameters (gamma, beta), running statistics and their gradients for
// data of type T: T itself, float for bfloat16 (mixed precision as in PyTorch's autocast and
// oneDNN: bfloat16 tensors, float32 parameters).
template <typename T>
struct ParameterType {
  using type = T;
};
template <>
struct ParameterType<bfloat16> {
  using type = float;
};
template <typename T>
using parameter_t = typename ParameterType<T>::type;

// Which implementation runs. kAuto takes the first implementation, in order of preference, that
// supports the problem; the reference supports everything and comes last.
enum class Backend {
  kAuto,
  kReference,  // plain loops, float64 accumulation, one thread: slow and obviously correct
  kOptimized,  // vectorized, multi-threaded; throws if no optimized kernel supports the problem
};

// Whether the backward pass differentiates through the batch mean and variance.
enum class StatsGradient {
  kThroughBatchStats,  // training: the true gradient of BN with batch statistics (paper, Sec. 3)
  kStatsAsConstants,   // mean/var treated as constants: inference, frozen BN, or the paper's
                       // Section 2 ablation that "blows up"
};

// An activation fused into BatchNorm, as oneDNN's fuse_norm_relu: one pass over memory instead of
// two. With kRelu the forward output is max(y, 0); the backward takes dy of that output and masks
// it where the recomputed y = gamma * xhat + beta is not > 0 (nothing extra is stored), so it needs
// beta too.
enum class Activation {
  kNone,
  kRelu,
};

// The per-channel affine map inference collapses to: y = scale * x + shift with
//   scale = gamma / sqrt(var + eps),  shift = beta - scale * mean.
struct AffineMap {
  std::vector<double> scale;  // [C]
  std::vector<double> shift;  // [C]
};

// Computes scale and shift from statistics and parameters. mean, var: [C]; gamma, beta: [C] or
// empty.
template <typename T>
AffineMap inference_affine(std::span<const T> mean, std::span<const T> var,
                           std::span<const T> gamma, std::span<const T> beta, double eps);

// Training forward. Computes each channel's batch moments over N * spatial values into
// batch_moments [C], then y = gamma * (x - mean) / sqrt(var + eps) + beta with the biased variance.
// save_invstd: empty, or [C] overwritten with 1 / sqrt(batch_moments[c].variance() + eps), the
// value y was normalized with (what batch_norm_backward takes), so callers need not compute it.
// Requires more than one value per channel (N * spatial > 1) and eps > 0.
template <typename T>
void batch_norm_forward_train(std::span<const T> x, const TensorDesc& desc,
                              std::span<const T> gamma, std::span<const T> beta, double eps,
                              std::span<T> y, std::span<Moments> batch_moments,
                              Backend backend = Backend::kAuto,
                              Activation activation = Activation::kNone,
                              std::span<double> save_invstd = {});

// PyTorch's running-statistics update after a training forward, for every channel c:
//   running_mean[c] = (1 - factor) * running_mean[c] + factor * batch[c].mean
//   running_var[c]  = (1 - factor) * running_var[c]  + factor * batch[c].unbiased_variance()
// factor is the momentum (PyTorch's default 0.1), or 1 / k at the k-th batch for a cumulative
// average. batch: [C] (batch_norm_forward_train's batch_moments), every count > 1; running_mean,
// running_var: [C], updated in place; 0 <= factor <= 1.
template <typename T>
void update_running_stats(std::span<const Moments> batch, double factor, std::span<T> running_mean,
                          std::span<T> running_var);

// Forward with given statistics (inference, frozen): y = gamma * (x - mean) / sqrt(var + eps) +
// beta. mean, var: [C], var >= 0.
template <typename T>
void batch_norm_forward_infer(std::span<const T> x, const TensorDesc& desc, std::span<const T> mean,
                              std::span<const T> var, std::span<const T> gamma,
                              std::span<const T> beta, double eps, std::span<T> y,
                              Backend backend = Backend::kAuto,
                              Activation activation = Activation::kNone);

// Backward. mean and invstd [C] are the statistics the forward normalized with (batch moments in
// training, running statistics otherwise; invstd = 1 / sqrt(var + eps)). With xhat = (x - mean) *
// invstd and M = N * spatial:
//   dbeta  = sum dy                 dgamma = sum dy * xhat
//   kThroughBatchStats: dx = gamma * invstd * (dy - dbeta / M - xhat * dgamma / M)
//   kStatsAsConstants:  dx = gamma * invstd * dy
// dx, dgamma, dbeta may each be empty when not wanted; what is given is overwritten.
// Activation::kRelu: dy is the gradient of max(y, 0) and the formulas above apply to
// dy * [y > 0]; beta ([C] or empty) is the forward's, read only to recompute y.
template <typename T>
void batch_norm_backward(std::span<const T> x, std::span<const T> dy, const TensorDesc& desc,
                         std::span<const double> mean, std::span<const double> invstd,
                         std::span<const T> gamma, StatsGradient stats_gradient, std::span<T> dx,
                         std::span<T> dgamma, std::span<T> dbeta, Backend backend = Backend::kAuto,
                         Activation activation = Activation::kNone, std::span<const T> beta = {});

// Folds an inference BatchNorm into the layer before it, whose weight has one row per output
// channel (Linear [C, in], Conv [C, in, kh, kw]): W'[c, :] = scale[c] * W[c, :] and
// b'[c] = scale[c] * b[c] + shift[c]. bias [C] is updated in place (start from zeros when the layer
// had none).
template <typename T>
void fold_into_preceding(const AffineMap& bn, std::span<T> weight, std::span<T> bias);

// The name of the implementation that `backend` selects for desc (e.g. "reference",
// "cpu-avx512"; for bfloat16 also "cpu-avx512-bf16"), for benchmarks and logs. T: float, double,
// bfloat16.
template <typename T>
const char* selected_kernel_name(const TensorDesc& desc, Backend backend);

// bfloat16 data: x, y, dy, dx in bfloat16; gamma, beta, mean, var, dgamma, dbeta in float32 (use
// update_running_stats<float> and inference_affine<float> for the statistics). Each computes in
// float32 with float64 sums, as the float32 functions do, and rounds every output element once
// to the nearest bfloat16 (ties to even); the reference backend computes in float64. Contracts
// and errors are those of the float functions above.
void batch_norm_forward_train(std::span<const bfloat16> x, const TensorDesc& desc,
                              std::span<const float> gamma, std::span<const float> beta, double eps,
                              std::span<bfloat16> y, std::span<Moments> batch_moments,
                              Backend backend = Backend::kAuto,
                              Activation activation = Activation::kNone,
                              std::span<double> save_invstd = {});

void batch_norm_forward_infer(std::span<const bfloat16> x, const TensorDesc& desc,
                              std::span<const float> mean, std::span<const float> var,
                              std::span<const float> gamma, std::span<const float> beta, double eps,
                              std::span<bfloat16> y, Backend backend = Backend::kAuto,
                              Activation activation = Activation::kNone);

void batch_norm_backward(std::span<const bfloat16> x, std::span<const bfloat16> dy,
                         const TensorDesc& desc, std::span<const double> mean,
                         std::span<const double> invstd, std::span<const float> gamma,
                         StatsGradient stats_gradient, std::span<bfloat16> dx,
                         std::span<float> dgamma, std::span<float> dbeta,
                         Backend backend = Backend::kAuto,
                         Activation activation = Activation::kNone,
                         std::span<const float> beta = {});

}  // namespace bnorm
