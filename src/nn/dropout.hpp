// Inverted dropout: in training each value is kept with probability 1 - p and scaled by
// 1 / (1 - p), so evaluation is the identity. The mask comes from the layer's own seeded stream,
// so a seed gives the same masks run after run. In data-parallel training each rank holds a shard
// of the batch's rows; set_batch_rows() makes the layer draw the whole batch's mask and apply its
// shard's rows, so K ranks drop exactly what one process on the whole batch drops.
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

  // The next training forwards hold rows [first, first + N) of a global batch of global_rows
  // rows (N: the input's rows). global_rows = 0 (the default): the input is the whole batch.
  // Throws bnorm::Error unless 0 <= first and (global_rows = 0 or first < global_rows).
  void set_batch_rows(int64_t first, int64_t global_rows);

  double p() const { return p_; }

 private:
  double p_;
  Rng rng_;
  bool last_train_ = false;
  std::vector<float> mask_;  // [N * features]: 0 or 1 / (1 - p)
  int64_t first_row_ = 0;
  int64_t global_rows_ = 0;
};

}  // namespace bnorm::nn
