// BatchNorm over the channels of image rows (the paper's conv BN, Section 3.2): each row of the
// [N, C*H*W] input is a C x H x W image; statistics are per channel over the M = N*H*W values of
// the batch, with one gamma/beta per channel. Wraps bnorm::BatchNorm<float> with the
// channels-first layout. Phase::kTrain: batch statistics, running ones updated; Phase::kEval:
// running statistics (Algorithm 2).
#pragma once

#include "bnorm/batch_norm.hpp"
#include "nn/batch_norm_module.hpp"
#include "nn/conv/image_shape.hpp"
#include "nn/layer.hpp"

namespace bnorm::nn {

class ChannelBatchNormLayer final : public Layer {
 public:
  // options.num_features is set to shape.c and options.layout to kChannelsFirst. Throws as
  // the chosen module's constructor does. norm: plain BN, Batch Renorm or Ghost BN in training.
  ChannelBatchNormLayer(ImageShape shape, BatchNormOptions options, const Normalization& norm = {});

  std::string_view kind() const override { return "batch_norm2d"; }
  int64_t out_features(int64_t in_features) const override;
  void forward(const Tensor& in, Tensor& out, Phase phase) override;
  void backward(const Tensor& in, const Tensor& out, const Tensor& dout, Tensor* din) override;
  std::vector<Parameter> parameters() override;  // gamma, beta [C]
  std::vector<Counter> counters() override;      // num_batches_tracked
  std::vector<Buffer> buffers() override;        // running_mean, running_var [C]

  ImageShape shape() const { return shape_; }
  // The descriptor of a batch of `batch` rows: [N, C, H, W] channels-first.
  TensorDesc desc(int64_t batch) const;
  BatchNorm<float>& module() { return bn_.module(); }
  const BatchNorm<float>& module() const { return bn_.module(); }
  // Data-parallel training: batch statistics of the global batch over comm (BatchNormModule).
  void synchronize(Communicator& comm) { bn_.synchronize(comm); }

 private:
  ImageShape shape_;
  BatchNormModule bn_;
  TensorDesc desc_;  // dims[0] updated per call
};

}  // namespace bnorm::nn
