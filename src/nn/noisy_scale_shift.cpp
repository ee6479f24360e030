// The per-unit random scale and shift of "noisy BN", redrawn at every training forward.
#include "nn/noisy_scale_shift.hpp"

#include <algorithm>
#include <cmath>

#include "check.hpp"

namespace bnorm::nn {

NoisyScaleShift::NoisyScaleShift(const NoisyScaleShiftOptions& options, uint64_t seed)
    : options_(options), rng_(seed) {
  const char* op = "NoisyScaleShift";
  detail::check(options.features > 0, op, "expected features > 0, got ", options.features);
  detail::check(std::isfinite(options.shift_bound) && options.shift_bound >= 0, op,
                "expected a finite shift bound >= 0, got ", options.shift_bound);
  detail::check(std::isfinite(options.variance_max) && options.variance_min > 0 &&
                    options.variance_min <= options.variance_max,
                op, "expected 0 < variance_min <= variance_max (finite), got ",
                options.variance_min, " and ", options.variance_max);
  scale_.resize(static_cast<size_t>(options.features));
  shift_.resize(static_cast<size_t>(options.features));
  draw();
}

int64_t NoisyScaleShift::out_features(int64_t in_features) const {
  detail::check(in_features == options_.features, "NoisyScaleShift", "expected ", options_.features,
                " input features, got ", in_features);
  return in_features;
}

void NoisyScaleShift::draw() {
  const NoisyScaleShiftOptions& o = options_;
  for (size_t j = 0; j < scale_.size(); ++j) {
    const double v = o.variance_min + (o.variance_max - o.variance_min) * rng_.uniform();
    scale_[j] = static_cast<float>(std::sqrt(v));
    shift_[j] = static_cast<float>(o.shift_bound * (2.0 * rng_.uniform() - 1.0));
  }
}

void NoisyScaleShift::forward(const Tensor& in, Tensor& out, Phase phase) {
  last_train_ = phase == Phase::kTrain;
  if (!last_train_) {
    std::copy(in.span().begin(), in.span().end(), out.span().begin());
    return;
  }
  if (!held_) draw();
  const int64_t n = in.rows();
  const auto c = static_cast<size_t>(options_.features);
  for (int64_t i = 0; i < n; ++i) {
    const float* x = in.data() + static_cast<size_t>(i) * c;
    float* y = out.data() + static_cast<size_t>(i) * c;
    for (size_t j = 0; j < c; ++j) y[j] = scale_[j] * x[j] + shift_[j];
  }
}

void NoisyScaleShift::backward(const Tensor& /*in*/, const Tensor& /*out*/, const Tensor& dout,
                               Tensor* din) {
  if (din == nullptr) return;
  if (!last_train_) {
    std::copy(dout.span().begin(), dout.span().end(), din->span().begin());
    return;
  }
  const int64_t n = dout.rows();
  const auto c = static_cast<size_t>(options_.features);
  for (int64_t i = 0; i < n; ++i) {
    const float* dy = dout.data() + static_cast<size_t>(i) * c;
    float* dx = din->data() + static_cast<size_t>(i) * c;
    for (size_t j = 0; j < c; ++j) dx[j] = scale_[j] * dy[j];
  }
}

}  // namespace bnorm::nn
