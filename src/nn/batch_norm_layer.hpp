// BatchNorm over the features of a [N, C] tensor, wrapping bnorm::BatchNorm<float> (layout kNC).
// Phase::kTrain normalizes with batch statistics and updates the running ones; Phase::kEval uses
// the running statistics (paper, Algorithm 2). Frozen: running statistics in both phases and no
// gradients for gamma, beta (Mode::kFrozen), for fine-tuning; leave them out of the optimizer,
// or weight decay still moves them. Normalization picks plain BN, Batch Renorm or Ghost BN for
// training.
#pragma once

#include "bnorm/batch_norm.hpp"
#include "nn/batch_norm_module.hpp"
#include "nn/layer.hpp"

namespace bnorm::nn {

class BatchNormLayer final : public Layer {
 public:
  // options.layout is forced to Layout::kNC. Throws as the chosen module's constructor does.
  explicit BatchNormLayer(BatchNormOptions options, const Normalization& norm = {});

  std::string_view kind() const override { return "batch_norm"; }
  int64_t out_features(int64_t in_features) const override;
  void forward(const Tensor& in, Tensor& out, Phase phase) override;
  void backward(const Tensor& in, const Tensor& out, const Tensor& dout, Tensor* din) override;
  std::vector<Parameter> parameters() override;  // gamma, beta (none without affine)
  std::vector<Counter> counters() override;      // num_batches_tracked
  std::vector<Buffer> buffers() override;        // running_mean, running_var

  void set_frozen(bool frozen) { frozen_ = frozen; }
  bool frozen() const { return frozen_; }
  BatchNorm<float>& module() { return bn_.module(); }
  const BatchNorm<float>& module() const { return bn_.module(); }
  const Normalization& normalization() const { return bn_.normalization(); }
  // Data-parallel training: batch statistics of the global batch over comm (BatchNormModule).
  void synchronize(Communicator& comm) { bn_.synchronize(comm); }

 private:
  BatchNormModule bn_;
  TensorDesc desc_;  // [N, C] kNC; dims[0] updated per call, so no allocation per step
  bool frozen_ = false;
};

// A BatchNorm module's trained tensors (gamma, beta; none without affine), running statistics
// (running_mean, running_var) and num_batches_tracked (none without track_running_stats), under
// PyTorch's names: what every engine layer wrapping a module reports (this one, and the conv
// nets' ChannelBatchNormLayer). The views live as long as bn.
std::vector<Parameter> batch_norm_parameters(BatchNorm<float>& bn);
std::vector<Buffer> batch_norm_buffers(BatchNorm<float>& bn);
std::vector<Counter> batch_norm_counters(BatchNorm<float>& bn);

}  // namespace bnorm::nn
