// BatchNorm over the features of a [N, C] tensor, wrapping bnorm::BatchNorm<float> (layout kNC).
// Phase::kTrain normalizes with batch statistics and updates the running ones; Phase::kEval uses
// the running statistics (paper, Algorithm 2). Frozen: running statistics in both phases and no
// gradients for gamma, beta (Mode::kFrozen), for fine-tuning; leave them out of the optimizer,
// or weight decay still moves them.
#pragma once

#include "bnorm/batch_norm.hpp"
#include "nn/layer.hpp"

namespace bnorm::nn {

class BatchNormLayer final : public Layer {
 public:
  // options.layout is forced to Layout::kNC. Throws as BatchNorm's constructor does.
  explicit BatchNormLayer(BatchNormOptions options);

  std::string_view kind() const override { return "batch_norm"; }
  int64_t out_features(int64_t in_features) const override;
  void forward(const Tensor& in, Tensor& out, Phase phase) override;
  void backward(const Tensor& in, const Tensor& out, const Tensor& dout, Tensor* din) override;
  std::vector<Parameter> parameters() override;  // gamma, beta (none without affine)
  std::vector<Counter> counters() override;     // num_batches_tracked
  std::vector<Buffer> buffers() override;        // running_mean, running_var

  void set_frozen(bool frozen) { frozen_ = frozen; }
  bool frozen() const { return frozen_; }
  BatchNorm<float>& module() { return bn_; }
  const BatchNorm<float>& module() const { return bn_; }

 private:
  BatchNorm<float> bn_;
  TensorDesc desc_;  // [N, C] kNC; dims[0] updated per call, so no allocation per step
  bool frozen_ = false;
};

}  // namespace bnorm::nn
