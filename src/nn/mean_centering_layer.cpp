// Mean-only centering x = u + b, y = x - E[x], with the switch for b's gradient through the mean.
// Accumulation in double, as the reference kernels do: u + b is then exact, so the output does not
// depend on b beyond the last bit even when b has grown large.
#include "nn/mean_centering_layer.hpp"

#include <algorithm>

#include "check.hpp"

namespace bnorm::nn {

MeanCenteringLayer::MeanCenteringLayer(const MeanCenteringOptions& options) : options_(options) {
  detail::check(options.num_features > 0, "MeanCenteringLayer", "expected num_features > 0, got ",
                options.num_features);
  detail::check(options.momentum >= 0.0 && options.momentum <= 1.0, "MeanCenteringLayer",
                "expected momentum in [0, 1], got ", options.momentum);
  const auto c = static_cast<size_t>(options.num_features);
  bias_.assign(c, 0.0f);
  dbias_.assign(c, 0.0f);
  running_mean_.assign(c, 0.0f);
}

int64_t MeanCenteringLayer::out_features(int64_t in_features) const {
  detail::check(in_features == options_.num_features, "MeanCenteringLayer", "expected ",
                options_.num_features, " input features, got ", in_features);
  return in_features;
}

// Train: mean_x[c] = (1/N) sum_n (u[n, c] + b[c]); y[n, c] = (u[n, c] + b[c]) - mean_x[c].
// The running mean tracks E[u] = mean_x - b, so evaluation subtracts E[u] + b with the current b:
// a running mean of x itself would lag behind a moving b.
void MeanCenteringLayer::forward(const Tensor& in, Tensor& out, Phase phase) {
  const int64_t n = in.rows(), c = options_.num_features;
  last_train_ = phase == Phase::kTrain;
  detail::check(!last_train_ || n >= 2, "MeanCenteringLayer",
                "expected at least 2 rows in training (a batch mean of one row is the row), got ",
                n);
  for (int64_t j = 0; j < c; ++j) {
    const double b = bias_[static_cast<size_t>(j)];
    double mean_x = 0.0;
    if (last_train_) {
      for (int64_t r = 0; r < n; ++r) mean_x += static_cast<double>(in[r * c + j]) + b;
      mean_x /= static_cast<double>(n);
      float& rm = running_mean_[static_cast<size_t>(j)];
      rm = static_cast<float>((1.0 - options_.momentum) * rm + options_.momentum * (mean_x - b));
    } else {
      mean_x = static_cast<double>(running_mean_[static_cast<size_t>(j)]) + b;
    }
    for (int64_t r = 0; r < n; ++r)
      out[r * c + j] = static_cast<float>(static_cast<double>(in[r * c + j]) + b - mean_x);
  }
}

// dL/du[n, c] = dy[n, c] - (1/N) sum_m dy[m, c]   (training; the mean depends on every u)
// dL/db[c] = sum_n dL/dx[n, c] = sum_n du[n, c]   (exactly 0; float rounding in practice)
// Ignoring E[x]'s dependence on b instead: dL/db[c] = sum_n dy[n, c].
void MeanCenteringLayer::backward(const Tensor& /*in*/, const Tensor& /*out*/, const Tensor& dout,
                                  Tensor* din) {
  const int64_t n = dout.rows(), c = options_.num_features;
  for (int64_t j = 0; j < c; ++j) {
    double sum_dy = 0.0;
    for (int64_t r = 0; r < n; ++r) sum_dy += dout[r * c + j];
    const double mean_dy = last_train_ ? sum_dy / static_cast<double>(n) : 0.0;
    double sum_du = 0.0;
    for (int64_t r = 0; r < n; ++r) {
      const auto du = static_cast<float>(static_cast<double>(dout[r * c + j]) - mean_dy);
      sum_du += du;
      if (din != nullptr) (*din)[r * c + j] = du;
    }
    // After an eval forward the output does not depend on b at all: the exact db is 0.
    const double db = options_.bias_gradient_through_mean ? (last_train_ ? sum_du : 0.0) : sum_dy;
    dbias_[static_cast<size_t>(j)] += static_cast<float>(db);
  }
}

std::vector<Parameter> MeanCenteringLayer::parameters() {
  return {{.name = "bias", .value = bias_, .grad = dbias_}};
}

std::vector<Buffer> MeanCenteringLayer::buffers() {
  return {{.name = "running_mean", .value = running_mean_}};
}

}  // namespace bnorm::nn
