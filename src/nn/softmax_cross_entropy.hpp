// The classification loss: softmax over each row of logits, then the mean negative log-likelihood
// of the labels (PyTorch's nn.CrossEntropyLoss with reduction 'mean'), and the argmax count.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "nn/tensor.hpp"

namespace bnorm::nn {

class SoftmaxCrossEntropy {
 public:
  // logits [N, K], labels [N] in [0, K). Returns the mean loss over the N rows (computed in
  // double) and keeps the probabilities for backward(). Throws bnorm::Error on a label outside
  // [0, K) or a size mismatch.
  double forward(const Tensor& logits, std::span<const int32_t> labels);

  // dlogits [N, K] = (softmax - onehot(label)) / N for the last forward(); overwritten. With
  // batch > 0 it divides by batch instead: a rank's N rows of a global batch of `batch` rows (the
  // same float division one process makes, so the rows' gradients agree to the bit).
  void backward(Tensor& dlogits, int64_t batch = 0) const;

  const Tensor& probabilities() const { return probs_; }

 private:
  Tensor probs_;                 // [N, K]
  std::vector<int32_t> labels_;  // [N], copied: the caller's batch buffer may be refilled
};

// Rows of logits [N, K] whose largest entry is at the label's index (first maximum on ties).
int64_t count_correct(const Tensor& logits, std::span<const int32_t> labels);

}  // namespace bnorm::nn
