// Softmax cross-entropy with the max subtracted per row for stability.
#include "nn/softmax_cross_entropy.hpp"

#include <algorithm>
#include <cmath>

#include "check.hpp"

namespace bnorm::nn {
namespace {

void check_labels(const Tensor& logits, std::span<const int32_t> labels, std::string_view op) {
  detail::check(static_cast<int64_t>(labels.size()) == logits.rows(), op, "expected ",
                logits.rows(), " labels (one per row of logits), got ", labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    detail::check(labels[i] >= 0 && labels[i] < logits.cols(), op, "expected labels in [0, ",
                  logits.cols(), "), got ", labels[i], " at row ", i);
  }
}

}  // namespace

// p = exp(z - max z) / sum exp(z - max z);  loss = -mean log p[label]
//   = mean (log sum exp(z - max) - (z[label] - max)).
double SoftmaxCrossEntropy::forward(const Tensor& logits, std::span<const int32_t> labels) {
  check_labels(logits, labels, "SoftmaxCrossEntropy::forward");
  const int64_t n = logits.rows(), k = logits.cols();
  probs_.resize(n, k);
  labels_.assign(labels.begin(), labels.end());
  double total = 0.0;
  for (int64_t r = 0; r < n; ++r) {
    const float* z = logits.data() + r * k;
    float* p = probs_.data() + r * k;
    const float max = *std::max_element(z, z + k);
    double sum = 0.0;
    for (int64_t j = 0; j < k; ++j) {
      p[j] = std::exp(z[j] - max);
      sum += p[j];
    }
    const auto inv = static_cast<float>(1.0 / sum);
    for (int64_t j = 0; j < k; ++j) p[j] *= inv;
    total += std::log(sum) - static_cast<double>(z[labels[static_cast<size_t>(r)]] - max);
  }
  return n > 0 ? total / static_cast<double>(n) : 0.0;
}

void SoftmaxCrossEntropy::backward(Tensor& dlogits, int64_t batch) const {
  const int64_t n = probs_.rows(), k = probs_.cols();
  detail::check(batch == 0 || batch >= n, "SoftmaxCrossEntropy::backward",
                "expected a batch of at least the last forward's ", n, " rows, got ", batch);
  dlogits.resize(n, k);
  const float inv_n = 1.0f / static_cast<float>(batch > 0 ? batch : n);
  for (int64_t r = 0; r < n; ++r) {
    const float* p = probs_.data() + r * k;
    float* d = dlogits.data() + r * k;
    for (int64_t j = 0; j < k; ++j) d[j] = p[j] * inv_n;
    d[labels_[static_cast<size_t>(r)]] -= inv_n;
  }
}

int64_t count_correct(const Tensor& logits, std::span<const int32_t> labels) {
  check_labels(logits, labels, "count_correct");
  const int64_t n = logits.rows(), k = logits.cols();
  int64_t correct = 0;
  for (int64_t r = 0; r < n; ++r) {
    const float* z = logits.data() + r * k;
    const auto best = std::max_element(z, z + k) - z;
    correct += best == labels[static_cast<size_t>(r)] ? 1 : 0;
  }
  return correct;
}

}  // namespace bnorm::nn
