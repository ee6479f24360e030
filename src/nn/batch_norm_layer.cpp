// BatchNormLayer: maps Phase to bnorm::Mode and [N, C] tensors to a kNC TensorDesc.
#include "nn/batch_norm_layer.hpp"

#include "check.hpp"

namespace bnorm::nn {
namespace {

BatchNormOptions with_nc_layout(BatchNormOptions options) {
  options.layout = Layout::kNC;
  return options;
}

}  // namespace

BatchNormLayer::BatchNormLayer(BatchNormOptions options, const Normalization& norm)
    : bn_(with_nc_layout(options), norm),
      desc_{.dims = {0, options.num_features}, .layout = Layout::kNC} {}

int64_t BatchNormLayer::out_features(int64_t in_features) const {
  detail::check(in_features == bn_.module().options().num_features, "BatchNormLayer", "expected ",
                bn_.module().options().num_features, " features, got ", in_features);
  return in_features;
}

void BatchNormLayer::forward(const Tensor& in, Tensor& out, Phase phase) {
  desc_.dims[0] = in.rows();
  Mode mode = phase == Phase::kTrain ? Mode::kTrain : Mode::kInference;
  if (frozen_) mode = Mode::kFrozen;
  bn_.forward(in.span(), desc_, out.span(), mode);
}

void BatchNormLayer::backward(const Tensor& in, const Tensor& /*out*/, const Tensor& dout,
                              Tensor* din) {
  bn_.backward(in.span(), dout.span(), din != nullptr ? din->span() : std::span<float>());
}

std::vector<Parameter> BatchNormLayer::parameters() { return batch_norm_parameters(bn_.module()); }
std::vector<Buffer> BatchNormLayer::buffers() { return batch_norm_buffers(bn_.module()); }
std::vector<Counter> BatchNormLayer::counters() { return batch_norm_counters(bn_.module()); }

std::vector<Parameter> batch_norm_parameters(BatchNorm<float>& bn) {
  if (!bn.options().affine) return {};
  return {{.name = "gamma", .value = bn.gamma(), .grad = bn.grad_gamma()},
          {.name = "beta", .value = bn.beta(), .grad = bn.grad_beta()}};
}

std::vector<Buffer> batch_norm_buffers(BatchNorm<float>& bn) {
  if (!bn.options().track_running_stats) return {};
  return {{.name = "running_mean", .value = bn.running_mean()},
          {.name = "running_var", .value = bn.running_var()}};
}

std::vector<Counter> batch_norm_counters(BatchNorm<float>& bn) {
  if (!bn.options().track_running_stats) return {};
  return {{.name = "num_batches_tracked",
           .get = [&bn] { return bn.num_batches_tracked(); },
           .set = [&bn](int64_t n) { bn.set_num_batches_tracked(n); }}};
}

}  // namespace bnorm::nn
