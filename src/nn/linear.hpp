// Fully connected layer y = x W^T + b, with the GEMMs done by OpenBLAS (in fixed chunks of rows
// with LinearOptions::row_chunk). Weight is [out, in] as in PyTorch's nn.Linear, so checkpoints and
// golden files map one to one. Without bias when a BatchNorm follows: BN's shift beta takes its
// role (paper, Section 3.2).
#pragma once

#include <vector>

#include "nn/layer.hpp"

namespace bnorm::nn {

struct LinearOptions {
  int64_t in_features = 0;   // > 0
  int64_t out_features = 0;  // > 0
  bool bias = true;
  // > 0: the GEMMs go over at most this many rows per call, and the weight and bias gradients sum
  // the chunks' float sums in double (Parameter::grad_sum), rounding once, so that data-parallel
  // shards of whole chunks can train to the bit of one process: a small MLP does in tests, fig1's
  // network does not yet (docs/distributed.md). 0: one call per GEMM (faster).
  int64_t row_chunk = 0;
};

class Linear final : public Layer {
 public:
  // Weight and bias start at zero; initialize them with nn/init.hpp. Throws on non-positive sizes.
  explicit Linear(const LinearOptions& options);

  std::string_view kind() const override { return "linear"; }
  int64_t out_features(int64_t in_features) const override;
  void forward(const Tensor& in, Tensor& out, Phase phase) override;
  void backward(const Tensor& in, const Tensor& out, const Tensor& dout, Tensor* din) override;
  std::vector<Parameter> parameters() override;

  const LinearOptions& options() const { return options_; }
  std::span<float> weight() { return weight_; }  // [out, in]
  std::span<float> bias() { return bias_; }      // [out], empty without bias
  std::span<const float> weight() const { return weight_; }
  std::span<const float> bias() const { return bias_; }

 private:
  void chunked_parameter_gradients(const Tensor& in, const Tensor& dout);
  int row_chunk(int rows) const;  // rows per GEMM call

  LinearOptions options_;
  std::vector<float> weight_, bias_;    // [out, in], [out]
  std::vector<float> dweight_, dbias_;  // same shapes
  // With row_chunk: the gradients' unrounded sums (Parameter::grad_sum) and one chunk's sums.
  std::vector<double> dweight_sum_, dbias_sum_;
  std::vector<float> chunk_dweight_, chunk_dbias_;
};

}  // namespace bnorm::nn
