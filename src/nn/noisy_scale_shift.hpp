// "Noisy BN" noise (Santurkar et al. 2018): placed after a BatchNorm layer, it multiplies each
// unit by a random scale and adds a random shift, both drawn afresh at every training forward and
// shared by the batch's examples, so the next layer's input distribution moves at every step.
// Evaluation is the identity. No parameters; the draws come from the layer's own seeded stream.
#pragma once

#include <cstdint>
#include <vector>

#include "nn/layer.hpp"
#include "nn/random.hpp"

namespace bnorm::nn {

struct NoisyScaleShiftOptions {
  int64_t features = 0;       // > 0
  double shift_bound = 0.5;   // shift m ~ U(-shift_bound, shift_bound), >= 0
  double variance_min = 0.5;  // scale = sqrt(v), v ~ U(variance_min, variance_max), 0 < min <= max
  double variance_max = 2.0;
};

class NoisyScaleShift final : public Layer {
 public:
  // The first draw is made here, so scale() and shift() are valid before any forward. Throws
  // bnorm::Error on options outside the ranges above.
  NoisyScaleShift(const NoisyScaleShiftOptions& options, uint64_t seed);

  std::string_view kind() const override { return "noisy_scale_shift"; }
  int64_t out_features(int64_t in_features) const override;
  // kTrain: a new draw (unless held), then out[i, j] = scale[j] * in[i, j] + shift[j].
  // kEval: out = in.
  void forward(const Tensor& in, Tensor& out, Phase phase) override;
  // din[i, j] = scale[j] * dout[i, j] with the draw of the last forward (din = dout after an eval
  // forward). Overwrites din.
  void backward(const Tensor& in, const Tensor& out, const Tensor& dout, Tensor* din) override;

  // While held, training forwards reuse the current draw instead of making a new one: for
  // measurements that must see one fixed network, and for gradient checks.
  void set_held(bool held) { held_ = held; }
  bool held() const { return held_; }
  const std::vector<float>& scale() const { return scale_; }  // [features]
  const std::vector<float>& shift() const { return shift_; }  // [features]
  const NoisyScaleShiftOptions& options() const { return options_; }

 private:
  void draw();

  NoisyScaleShiftOptions options_;
  Rng rng_;
  bool held_ = false;
  bool last_train_ = false;
  std::vector<float> scale_, shift_;  // [features]
};

}  // namespace bnorm::nn
