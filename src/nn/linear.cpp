// Linear forward and backward as SGEMMs on row-major buffers, in fixed chunks of rows on request.
// OpenBLAS sums a row's products in an order that depends on how many rows the call holds and
// where the row sits in it, so only calls of the same rows give the same bits.
#include "nn/linear.hpp"

#include <cblas.h>

#include <algorithm>

#include "check.hpp"

namespace bnorm::nn {

Linear::Linear(const LinearOptions& options) : options_(options) {
  detail::check(options.in_features > 0 && options.out_features > 0, "Linear",
                "expected positive in_features and out_features, got ", options.in_features,
                " and ", options.out_features);
  detail::check(options.row_chunk >= 0, "Linear",
                "expected row_chunk >= 0 (0: one GEMM call per batch), got ", options.row_chunk);
  const auto w = static_cast<size_t>(options.in_features * options.out_features);
  weight_.assign(w, 0.0f);
  dweight_.assign(w, 0.0f);
  if (options.row_chunk > 0) dweight_sum_.assign(w, 0.0);
  if (options.bias) {
    bias_.assign(static_cast<size_t>(options.out_features), 0.0f);
    dbias_.assign(bias_.size(), 0.0f);
    if (options.row_chunk > 0) dbias_sum_.assign(bias_.size(), 0.0);
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
  const int chunk = row_chunk(n);
  for (int r = 0; r < n; r += chunk) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, std::min(chunk, n - r), m, k, 1.0f,
                in.data() + r * k, k, weight_.data(), k, beta, out.data() + r * m, m);
  }
}

// dW [out, in] += dy^T [out, N] * x [N, in];  db [out] += column sums of dy;
// dx [N, in] = dy [N, out] * W [out, in].
void Linear::backward(const Tensor& in, const Tensor& /*out*/, const Tensor& dout, Tensor* din) {
  const int n = static_cast<int>(in.rows());
  const int k = static_cast<int>(options_.in_features);
  const int m = static_cast<int>(options_.out_features);
  if (options_.row_chunk > 0) {
    chunked_parameter_gradients(in, dout);
  } else {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, k, n, 1.0f, dout.data(), m, in.data(),
                k, 1.0f, dweight_.data(), k);
    for (int r = 0; r < n && !dbias_.empty(); ++r) {
      const float* dy = dout.data() + r * m;
      for (int j = 0; j < m; ++j) dbias_[static_cast<size_t>(j)] += dy[j];
    }
  }
  if (din == nullptr) return;
  const int chunk = row_chunk(n);
  for (int r = 0; r < n; r += chunk) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, std::min(chunk, n - r), k, m, 1.0f,
                dout.data() + r * m, m, weight_.data(), k, 0.0f, din->data() + r * k, k);
  }
}

// dW and db with row_chunk: each chunk's sum in float, the chunks' sums added in double (exactly,
// in any grouping, while they lie within about 2^29 of each other), and rounded once.
void Linear::chunked_parameter_gradients(const Tensor& in, const Tensor& dout) {
  const int n = static_cast<int>(in.rows());
  const int k = static_cast<int>(options_.in_features);
  const int m = static_cast<int>(options_.out_features);
  const int chunk = row_chunk(n);
  chunk_dweight_.resize(dweight_.size());
  chunk_dbias_.resize(dbias_.size());
  for (int r = 0; r < n; r += chunk) {
    const int rows = std::min(chunk, n - r);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, k, rows, 1.0f, dout.data() + r * m, m,
                in.data() + r * k, k, 0.0f, chunk_dweight_.data(), k);
    for (size_t i = 0; i < dweight_sum_.size(); ++i) dweight_sum_[i] += chunk_dweight_[i];
    if (dbias_.empty()) continue;
    std::fill(chunk_dbias_.begin(), chunk_dbias_.end(), 0.0f);
    for (int i = r; i < r + rows; ++i) {
      const float* dy = dout.data() + i * m;
      for (int j = 0; j < m; ++j) chunk_dbias_[static_cast<size_t>(j)] += dy[j];
    }
    for (size_t j = 0; j < dbias_sum_.size(); ++j) dbias_sum_[j] += chunk_dbias_[j];
  }
  for (size_t i = 0; i < dweight_.size(); ++i) dweight_[i] = static_cast<float>(dweight_sum_[i]);
  for (size_t j = 0; j < dbias_.size(); ++j) dbias_[j] = static_cast<float>(dbias_sum_[j]);
}

int Linear::row_chunk(int rows) const {
  return options_.row_chunk > 0 ? static_cast<int>(std::min<int64_t>(options_.row_chunk, rows))
                                : std::max(rows, 1);
}

std::vector<Parameter> Linear::parameters() {
  std::vector<Parameter> p{
      {.name = "weight", .value = weight_, .grad = dweight_, .grad_sum = dweight_sum_}};
  if (!bias_.empty())
    p.push_back({.name = "bias", .value = bias_, .grad = dbias_, .grad_sum = dbias_sum_});
  return p;
}

}  // namespace bnorm::nn
