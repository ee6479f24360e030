// ChannelBatchNormLayer: maps Phase to bnorm::Mode and image rows to an NCHW TensorDesc.
#include "nn/conv/channel_batch_norm_layer.hpp"

#include "check.hpp"
#include "nn/batch_norm_layer.hpp"

namespace bnorm::nn {
namespace {

BatchNormOptions for_channels(ImageShape shape, BatchNormOptions options) {
  options.num_features = shape.c;
  options.layout = Layout::kChannelsFirst;
  return options;
}

}  // namespace

ChannelBatchNormLayer::ChannelBatchNormLayer(ImageShape shape, BatchNormOptions options,
                                             const Normalization& norm)
    : shape_(shape), bn_(for_channels(shape, options), norm), desc_(desc(0)) {
  detail::check(shape.h > 0 && shape.w > 0, "ChannelBatchNormLayer",
                "expected positive height and width, got ", shape.h, "x", shape.w);
}

TensorDesc ChannelBatchNormLayer::desc(int64_t batch) const {
  return {.dims = {batch, shape_.c, shape_.h, shape_.w}, .layout = Layout::kChannelsFirst};
}

int64_t ChannelBatchNormLayer::out_features(int64_t in_features) const {
  detail::check(in_features == shape_.numel(), "ChannelBatchNormLayer", "expected ", shape_.numel(),
                " input features (", shape_.c, "x", shape_.h, "x", shape_.w, "), got ",
                in_features);
  return in_features;
}

void ChannelBatchNormLayer::forward(const Tensor& in, Tensor& out, Phase phase) {
  desc_.dims[0] = in.rows();
  bn_.forward(in.span(), desc_, out.span(),
              phase == Phase::kTrain ? Mode::kTrain : Mode::kInference);
}

void ChannelBatchNormLayer::backward(const Tensor& in, const Tensor& /*out*/, const Tensor& dout,
                                     Tensor* din) {
  bn_.backward(in.span(), dout.span(), din != nullptr ? din->span() : std::span<float>());
}

std::vector<Parameter> ChannelBatchNormLayer::parameters() {
  return batch_norm_parameters(bn_.module());
}
std::vector<Buffer> ChannelBatchNormLayer::buffers() { return batch_norm_buffers(bn_.module()); }
std::vector<Counter> ChannelBatchNormLayer::counters() { return batch_norm_counters(bn_.module()); }

}  // namespace bnorm::nn
