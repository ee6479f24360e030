// Linear forward and backward as three SGEMMs on row-major buffers.
#include "nn/linear.hpp"

#include <cblas.h>

#include <algorithm>

#include "check.hpp"

namespace bnorm::nn {

Linear::Linear(const LinearOptions& options) : options_(options) {
  detail::check(options.in_features > 0 && options.out_features > 0, "Linear",
                "expected positive in_features and out_features, got ", options.in_features,
                " and ", options.out_features);
  const auto w = static_cast<size_t>(options.in_features * options.out_features);
  weight_.assign(w, 0.0f);
  dweight_.assign(w, 0.0f);
  if (options.bias) {
    bias_.assign(static_cast<size_t>(options.out_features), 0.0f);
    dbias_.assign(bias_.size(), 0.0f);
  }
}

int64_t Linear::out_features(int64_t in_features) const {
  detail::check(in_features == options_.in_features, "Linear", "expected ", options_.in_features,
                " input features, got ", in_features);
  return options_.out_features;
}

// y [N, out] = x [N, in] * W^T [in, out] (+ b broadcast over rows).
void Linear::forward(const Tensor& in, Tensor& out, Phase /*phase*/) {
  const int n = static_cast<int>(in.rows());
  const int k = static_cast<int>(options_.in_features);
  const int m = static_cast<int>(options_.out_features);
  float beta = 0.0f;
  if (!bias_.empty()) {
    for (int r = 0; r < n; ++r) std::copy(bias_.begin(), bias_.end(), out.data() + r * m);
    beta = 1.0f;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, m, k, 1.0f, in.data(), k, weight_.data(),
              k, beta, out.data(), m);
}

// dW [out, in] += dy^T [out, N] * x [N, in];  db [out] += column sums of dy;
// dx [N, in] = dy [N, out] * W [out, in].
void Linear::backward(const Tensor& in, const Tensor& /*out*/, const Tensor& dout, Tensor* din) {
  const int n = static_cast<int>(in.rows());
  const int k = static_cast<int>(options_.in_features);
  const int m = static_cast<int>(options_.out_features);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, k, n, 1.0f, dout.data(), m, in.data(), k,
              1.0f, dweight_.data(), k);
  if (!dbias_.empty()) {
    for (int r = 0; r < n; ++r) {
      const float* dy = dout.data() + r * m;
      for (int j = 0; j < m; ++j) dbias_[static_cast<size_t>(j)] += dy[j];
    }
  }
  if (din != nullptr) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, k, m, 1.0f, dout.data(), m,
                weight_.data(), k, 0.0f, din->data(), k);
  }
}

std::vector<Parameter> Linear::parameters() {
  std::vector<Parameter> p{{.name = "weight", .value = weight_, .grad = dweight_}};
  if (!bias_.empty()) p.push_back({.name = "bias", .value = bias_, .grad = dbias_});
  return p;
}

}  // namespace bnorm::nn
