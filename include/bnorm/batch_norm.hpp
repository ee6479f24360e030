// BatchNorm as a module: learnable gamma/beta, running statistics, and the statistics mode.
// Semantics follow the paper (Ioffe & Szegedy 2015, Algorithms 1 and 2) and match PyTorch's
// nn.BatchNorm{1,2,3}d number for number, including its running-statistics conventions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "bnorm/functional.hpp"
#include "bnorm/layout.hpp"
#include "bnorm/moments.hpp"

namespace bnorm {

struct BatchNormOptions {
  int64_t num_features = 0;  // C: channels (conv) or features (fully connected). Must be > 0.
  double eps = 1e-5;         // added to the variance before the square root. Must be > 0.
  // Weight of the new batch in the running statistics, in [0, 1]:
  //   running = (1 - momentum) * running + momentum * batch          (PyTorch; default 0.1)
  // std::nullopt: cumulative average, momentum = 1 / num_batches_tracked (PyTorch momentum=None).
  // Keras and ONNX write decay = 1 - momentum: use momentum_from_decay().
  std::optional<double> momentum = 0.1;
  bool affine = true;                      // learnable gamma (init 1) and beta (init 0) per channel
  bool track_running_stats = true;         // keep running_mean / running_var / num_batches_tracked
  Layout layout = Layout::kChannelsFirst;  // inputs must come in this layout
  Backend backend = Backend::kAuto;
  // Activation fused into the layer (forward and backward), e.g. kRelu for BN followed by ReLU:
  // forward() then returns max(BN(x), 0) and backward() takes the gradient of that output.
  Activation activation = Activation::kNone;
  // Opt-in: scan the input and throw naming the first channel holding NaN or Inf. Off by default,
  // when non-finite values propagate to the output as in PyTorch.
  bool check_finite = false;
  // Ablation of the paper's Section 2: the batch statistics are used in the forward pass but
  // treated as constants in the backward pass. Only for experiments; it makes training diverge.
  bool gradient_through_stats = true;
};

// Keras/ONNX decay (0.99, 0.9) to PyTorch momentum (0.01, 0.1).
double momentum_from_decay(double decay);

// Which statistics a forward pass normalizes with, and what it updates. An explicit mode rather
// than a train/eval flag, because frameworks mean four different things by it:
enum class Mode {
  // Batch statistics; running statistics updated. PyTorch module.train(); Keras training=True.
  kTrain,
  // Batch statistics; running statistics left alone. PyTorch F.batch_norm(training=True) without
  // running buffers, or a module with track_running_stats=False; oneDNN forward_training.
  kBatchStats,
  // Running statistics; gamma and beta still receive gradients. PyTorch module.eval();
  // oneDNN use_global_stats.
  kInference,
  // Running statistics, gamma and beta constant (no dgamma/dbeta): fine-tuning with frozen BN.
  // torchvision FrozenBatchNorm2d; Keras layer.trainable = False.
  kFrozen,
};

// T: float, double, or bfloat16. BatchNorm<bfloat16> takes and returns bfloat16 tensors and keeps
// its parameters, their gradients and the running statistics in float32 (Param), as PyTorch's
// autocast and oneDNN's mixed precision do.
namespace detail {
// The input of a module's last forward(): backward() must be given the same tensor, since the
// statistics saved with it belong to that data (another buffer would get wrong gradients).
template <typename T>
struct ForwardInput {
  const T* data = nullptr;
  size_t size = 0;
  TensorDesc desc;

  void remember(std::span<const T> x, const TensorDesc& d) {
    data = x.data(), size = x.size(), desc = d;
  }
  bool is(std::span<const T> x) const { return x.data() == data && x.size() == size; }
};
}  // namespace detail

template <typename T>
class BatchNorm {
 public:
  using Param = parameter_t<T>;  // T, or float for bfloat16

  // Throws bnorm::Error on num_features <= 0, eps <= 0 or momentum outside [0, 1].
  explicit BatchNorm(const BatchNormOptions& options);

  const BatchNormOptions& options() const { return options_; }

  // y = BN(x). x and y hold desc's elements; desc.layout must be options().layout and desc.dims[1]
  // must be num_features. Batch modes need more than one value per channel (N * spatial > 1);
  // running-statistics modes need track_running_stats. The statistics used are saved for
  // backward(). In batch modes (kTrain, kBatchStats) y must not overlap x; in running-statistics
  // modes (kInference, kFrozen) y may also be x itself (exact in-place inference), never a partial
  // overlap. After an in-place forward x is gone: do not call backward() on it.
  void forward(std::span<const T> x, const TensorDesc& desc, std::span<T> y, Mode mode);

  // Gradient of the last forward(): x must be that call's input, the same buffer (checked by its
  // data pointer and size: another tensor throws) and dy has its shape. dx is
  // overwritten (pass an empty span to skip it); dgamma and dbeta are accumulated into grad_gamma()
  // and grad_beta(), like PyTorch's .grad, except in Mode::kFrozen or without affine.
  void backward(std::span<const T> x, std::span<const T> dy, std::span<T> dx);

  // Parameters and their gradients, [C]; empty without affine.
  std::span<Param> gamma() { return gamma_; }
  std::span<Param> beta() { return beta_; }
  std::span<Param> grad_gamma() { return grad_gamma_; }
  std::span<Param> grad_beta() { return grad_beta_; }
  std::span<const Param> gamma() const { return gamma_; }
  std::span<const Param> beta() const { return beta_; }
  void zero_grad();

  // Running statistics, [C]; empty without track_running_stats. running_var is unbiased.
  std::span<Param> running_mean() { return running_mean_; }
  std::span<Param> running_var() { return running_var_; }
  std::span<const Param> running_mean() const { return running_mean_; }
  std::span<const Param> running_var() const { return running_var_; }
  int64_t num_batches_tracked() const { return num_batches_tracked_; }
  void set_num_batches_tracked(int64_t n) { num_batches_tracked_ = n; }
  // Back to mean 0, variance 1, no batches tracked.
  void reset_running_stats();

  // Batch moments [C] of the last forward in a batch mode (for synchronized or ghost BN, logging).
  std::span<const Moments> batch_moments() const { return batch_moments_; }

  // The affine map inference applies (running statistics): y = scale * x + shift per channel.
  AffineMap inference_affine() const;

  // Algorithm 2, step 2: population statistics over training batches with frozen weights.
  // Between begin and end, every forward(Mode::kBatchStats) also records its batch moments; end
  // sets running_mean = average of the batch means and running_var = average of the unbiased
  // batch variances (m/(m-1) times the biased ones, as the paper writes it for equal batch sizes
  // m).
  void begin_population_estimate();
  // Returns how many batches were averaged. Throws if none were recorded.
  int64_t end_population_estimate();

 private:
  void update_running_stats();
  void check_input(std::span<const T> x, const TensorDesc& desc, std::span<const T> y, Mode mode,
                   Extents* extents) const;

  BatchNormOptions options_;
  std::vector<Param> gamma_, beta_, grad_gamma_, grad_beta_;
  std::vector<Param> running_mean_, running_var_;
  int64_t num_batches_tracked_ = 0;

  // Saved by forward() for backward().
  bool has_forward_ = false;
  detail::ForwardInput<T> last_input_;
  Mode last_mode_ = Mode::kTrain;
  std::vector<Moments> batch_moments_;
  std::vector<double> saved_mean_, saved_invstd_;

  // Algorithm 2 accumulators.
  bool estimating_population_ = false;
  int64_t population_batches_ = 0;
  std::vector<double> population_mean_sum_, population_var_sum_;

  std::vector<Param> scratch_dgamma_, scratch_dbeta_;
};

extern template class BatchNorm<float>;
extern template class BatchNorm<double>;
extern template class BatchNorm<bfloat16>;

}  // namespace bnorm
