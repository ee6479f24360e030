// Inverted dropout: in training each value is kept with probability 1 - p and scaled by
// 1 / (1 - p), so evaluation is the identity. The mask comes from the layer's own seeded stream,
// so a seed gives the same masks run after run.
#pragma once

#include <vector>

#include "nn/layer.hpp"
#include "nn/random.hpp"

namespace bnorm::nn {

class Dropout final : public Layer {
 public:
  // p: drop probability in [0, 1). Throws bnorm::Error otherwise.
  Dropout(double p, uint64_t seed);

  std::string_view kind() const override { return "dropout"; }
  int64_t out_features(int64_t in_features) const override { return in_features; }
  void forward(const Tensor& in, Tensor& out, Phase phase) override;
  // dx = dy * mask (the mask of the last training forward; identity after an eval forward).
  void backward(const Tensor& in, const Tensor& out, const Tensor& dout, Tensor* din) override;

  double p() const { return p_; }

 private:
  double p_;
  Rng rng_;
  bool last_train_ = false;
  std::vector<float> mask_;  // [N * features]: 0 or 1 / (1 - p)
};

}  // namespace bnorm::nn
