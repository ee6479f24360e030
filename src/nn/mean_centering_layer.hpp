// Mean-only centering with a learned bias, the layer of the paper's Section 2 example:
// x = u + b, y = x - E[x], E[x] the per-feature mean over the batch in training. No division by
// the standard deviation, no gamma/beta. The switch bias_gradient_through_mean decides whether the
// backward differentiates E[x] with respect to b (true, the exact gradient: db = 0) or ignores that
// dependence (false: db = sum of dy, the paper's flawed step that makes b grow without bound).
#pragma once

#include <vector>

#include "nn/layer.hpp"

namespace bnorm::nn {

struct MeanCenteringOptions {
  int64_t num_features = 0;  // > 0
  // true: db = sum_n du_n = 0 up to float rounding. false: db = sum_n dy_n, as if E[x] did not
  // depend on b. The input's gradient du = dy - mean(dy) is exact either way, so the two settings
  // differ in b's update alone.
  bool bias_gradient_through_mean = true;
  double momentum = 0.1;  // running mean of the input u (PyTorch convention), in [0, 1]
};

class MeanCenteringLayer final : public Layer {
 public:
  // The bias starts at zero and the running mean at zero. Throws bnorm::Error on num_features <= 0
  // or a momentum outside [0, 1].
  explicit MeanCenteringLayer(const MeanCenteringOptions& options);

  std::string_view kind() const override { return "mean_centering"; }
  int64_t out_features(int64_t in_features) const override;
  // Train: y = (u + b) - mean_batch(u + b), in double, stored as float; updates the running mean of
  // u. Eval: y = (u + b) - (running_mean + b). Training needs at least 2 rows (throws otherwise).
  void forward(const Tensor& in, Tensor& out, Phase phase) override;
  // After a training forward: du = dy - mean(dy) (overwritten); db += sum_n du_n with the gradient
  // through the mean, sum_n dy_n without. After an eval forward: du = dy; db += 0 or sum_n dy_n.
  void backward(const Tensor& in, const Tensor& out, const Tensor& dout, Tensor* din) override;
  std::vector<Parameter> parameters() override;  // bias
  std::vector<Buffer> buffers() override;        // running_mean (of the input u, not of u + b)

  const MeanCenteringOptions& options() const { return options_; }
  std::span<float> bias() { return bias_; }  // [C]
  std::span<const float> bias() const { return bias_; }
  std::span<const float> running_mean() const { return running_mean_; }

 private:
  MeanCenteringOptions options_;
  std::vector<float> bias_, dbias_, running_mean_;  // [C] each
  bool last_train_ = false;
};

}  // namespace bnorm::nn
