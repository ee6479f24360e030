// Ghost BatchNorm (Hoffer, Hubara & Soudry 2017): training normalizes each "ghost batch" of
// ghost_batch_size consecutive samples (along N) with that slice's own statistics, as if the
// large batch were several small ones; inference is BatchNorm's, with running statistics updated
// once per ghost batch. Functional calls (stateless, as functional.hpp) and a module.
//
// Slicing: ghost batch g holds samples [g * G, min((g + 1) * G, N)) for G = ghost_batch_size, so
// when G does not divide N the last ghost batch is smaller (N mod G samples) and is normalized
// with its own statistics too. Every ghost batch must hold more than one value per channel
// (samples * spatial > 1): a last ghost batch of one sample without spatial extent is an error,
// not silently merged. With G >= N this is BatchNorm.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "bnorm/batch_norm.hpp"
#include "bnorm/functional.hpp"
#include "bnorm/layout.hpp"
#include "bnorm/moments.hpp"

namespace bnorm {

// ceil(n / ghost_batch_size): how many ghost batches a batch of n samples has. Throws unless
// n >= 0 and ghost_batch_size > 0.
int64_t ghost_batch_count(int64_t n, int64_t ghost_batch_size);

// Training forward: each ghost batch g as batch_norm_forward_train on its slice. ghost_moments
// [K * C] (K = ghost_batch_count) gets ghost batch g's moments at [g * C, (g + 1) * C);
// save_invstd: empty or [K * C], likewise. Shapes, gamma/beta, eps and activation as
// batch_norm_forward_train.
template <typename T>
void ghost_batch_norm_forward_train(std::span<const T> x, const TensorDesc& desc,
                                    int64_t ghost_batch_size, std::span<const T> gamma,
                                    std::span<const T> beta, double eps, std::span<T> y,
                                    std::span<Moments> ghost_moments,
                                    std::span<double> save_invstd = {},
                                    Backend backend = Backend::kAuto,
                                    Activation activation = Activation::kNone);

// Backward: each ghost batch as batch_norm_backward on its slice with its statistics (mean,
// invstd: [K * C] laid out as the forward's). dgamma and dbeta ([C] or empty, overwritten) are the
// sums over ghost batches; dx (empty or desc's size) is overwritten.
template <typename T>
void ghost_batch_norm_backward(std::span<const T> x, std::span<const T> dy, const TensorDesc& desc,
                               int64_t ghost_batch_size, std::span<const double> mean,
                               std::span<const double> invstd, std::span<const T> gamma,
                               StatsGradient stats_gradient, std::span<T> dx, std::span<T> dgamma,
                               std::span<T> dbeta, Backend backend = Backend::kAuto,
                               Activation activation = Activation::kNone,
                               std::span<const T> beta = {});

// Ghost BatchNorm as a module. Parameters and running statistics live in base(), a plain
// BatchNorm: Mode::kInference and kFrozen, checkpoints and inference_affine() are BatchNorm's.
// Mode::kTrain updates the running statistics once per ghost batch, in order (PyTorch's rule
// with options.momentum, or the cumulative average over ghost batches), and num_batches_tracked
// counts ghost batches. Mode::kBatchStats: ghost statistics, nothing updated. check_finite is not
// supported (the constructor throws).
template <typename T>  // float or double
class GhostBatchNorm {
 public:
  // Throws as BatchNorm's constructor, and unless ghost_batch_size > 0.
  GhostBatchNorm(const BatchNormOptions& options, int64_t ghost_batch_size);

  int64_t ghost_batch_size() const { return ghost_batch_size_; }
  // As BatchNorm::forward / backward (dgamma, dbeta accumulated into grad_gamma, grad_beta).
  void forward(std::span<const T> x, const TensorDesc& desc, std::span<T> y, Mode mode);
  void backward(std::span<const T> x, std::span<const T> dy, std::span<T> dx);

  // Moments [K * C] of the last forward in a batch mode, ghost batch by ghost batch.
  std::span<const Moments> ghost_moments() const { return ghost_moments_; }

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
  int64_t ghost_batch_size_;
  bool ghosted_ = false;  // whether the last forward was a batch mode (ours) or base()'s
  detail::ForwardInput<T> last_input_;
  std::vector<Moments> ghost_moments_;
  std::vector<double> mean_, invstd_;
  std::vector<T> dgamma_, dbeta_;
};

extern template class GhostBatchNorm<float>;
extern template class GhostBatchNorm<double>;

}  // namespace bnorm
