// Max and average pooling as engine layers over rows that are C x H x W images (no padding).
// Max pooling remembers where each maximum came from for backward.
#pragma once

#include <vector>

#include "nn/conv/image_shape.hpp"
#include "nn/conv/pool2d.hpp"
#include "nn/layer.hpp"

namespace bnorm::nn {

enum class PoolKind { kMax, kAvg };

struct Pool2dOptions {
  ImageShape in;
  PoolKind pool = PoolKind::kMax;
  int64_t size = 2, stride = 2;  // square window
};

class Pool2dLayer final : public Layer {
 public:
  // Throws bnorm::Error unless the window fits the input.
  explicit Pool2dLayer(const Pool2dOptions& options);

  std::string_view kind() const override {
    return options_.pool == PoolKind::kMax ? "max_pool2d" : "avg_pool2d";
  }
  int64_t out_features(int64_t in_features) const override;
  void forward(const Tensor& in, Tensor& out, Phase phase) override;
  void backward(const Tensor& in, const Tensor& out, const Tensor& dout, Tensor* din) override;

  ImageShape out_shape() const;

 private:
  Pool2dShape shape_for(int64_t batch) const;

  Pool2dOptions options_;
  std::vector<int32_t> argmax_;  // [N*C*OH*OW], max pooling only
};

// Flatten: the image rows become plain feature rows for a Linear layer. The data is already laid
// out as [N, C*H*W], so this is a copy; it marks where the geometry ends.
class Flatten final : public Layer {
 public:
  std::string_view kind() const override { return "flatten"; }
  int64_t out_features(int64_t in_features) const override { return in_features; }
  void forward(const Tensor& in, Tensor& out, Phase phase) override;
  void backward(const Tensor& in, const Tensor& out, const Tensor& dout, Tensor* din) override;
};

}  // namespace bnorm::nn
