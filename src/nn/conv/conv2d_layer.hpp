// Conv2d as an engine layer: rows of the [N, C*H*W] input are NCHW images, rows of the output are
// [K, OH, OW] images. Forward lowers the batch with im2col and keeps the columns for backward, so
// a step is two GEMMs forward and two backward (conv2d.hpp). Without bias when a BatchNorm
// follows: BN's shift beta takes its role (paper, Section 3.2).
#pragma once

#include <vector>

#include "nn/conv/conv2d.hpp"
#include "nn/conv/image_shape.hpp"
#include "nn/layer.hpp"

namespace bnorm::nn {

struct Conv2dOptions {
  ImageShape in;             // input geometry, every extent > 0
  int64_t out_channels = 0;  // K > 0
  int64_t kernel = 3;        // square kh = kw
  int64_t stride = 1, pad = 0;
  bool bias = true;
};

class Conv2dLayer final : public Layer {
 public:
  // Weight [K, C, k, k] and bias start at zero; initialize weight() with nn/init.hpp (fan_in =
  // C*k*k, fan_out = K). Throws bnorm::Error when the kernel does not fit the padded input.
  explicit Conv2dLayer(const Conv2dOptions& options);

  std::string_view kind() const override { return "conv2d"; }
  int64_t out_features(int64_t in_features) const override;
  void forward(const Tensor& in, Tensor& out, Phase phase) override;
  void backward(const Tensor& in, const Tensor& out, const Tensor& dout, Tensor* din) override;
  std::vector<Parameter> parameters() override;

  ImageShape out_shape() const;
  const Conv2dOptions& options() const { return options_; }
  std::span<float> weight() { return weight_; }  // [K, C, k, k]
  std::span<float> bias() { return bias_; }      // [K], empty without bias

 private:
  Conv2dShape shape_for(int64_t batch) const;

  Conv2dOptions options_;
  std::vector<float> weight_, bias_, dweight_, dbias_;
  std::vector<float> col_, dcol_;  // [C*k*k, N*OH*OW]: im2col of the last forward, its gradient
  int64_t batch_blocks_ = 1;       // the last forward's, which laid out col_ (conv2d.hpp)
};

}  // namespace bnorm::nn
