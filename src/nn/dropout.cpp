// Inverted dropout with a per-layer random stream.
#include "nn/dropout.hpp"

#include <algorithm>

#include "check.hpp"

namespace bnorm::nn {

Dropout::Dropout(double p, uint64_t seed) : p_(p), rng_(seed) {
  detail::check(p >= 0.0 && p < 1.0, "Dropout", "expected a drop probability in [0, 1), got ", p);
}

void Dropout::forward(const Tensor& in, Tensor& out, Phase phase) {
  last_train_ = phase == Phase::kTrain && p_ > 0.0;
  if (!last_train_) {
    std::copy(in.span().begin(), in.span().end(), out.span().begin());
    return;
  }
  const auto size = static_cast<size_t>(in.numel());
  mask_.resize(size);
  const float keep_scale = static_cast<float>(1.0 / (1.0 - p_));
  // A shard draws the rows before and after its own too: the stream stays the whole batch's.
  const int64_t features = in.rows() > 0 ? in.numel() / in.rows() : 0;
  const int64_t global = global_rows_ > 0 ? global_rows_ : in.rows();
  detail::check(
      first_row_ + in.rows() <= global, "Dropout",
      "expected the input's rows within the global batch set by set_batch_rows, got rows ",
      first_row_, "..", first_row_ + in.rows(), " of ", global);
  for (int64_t i = 0; i < first_row_ * features; ++i) rng_.uniform();
  for (size_t i = 0; i < size; ++i) mask_[i] = rng_.uniform() < p_ ? 0.0f : keep_scale;
  for (int64_t i = (first_row_ + in.rows()) * features; i < global * features; ++i) rng_.uniform();
  for (size_t i = 0; i < size; ++i) out.data()[i] = in.data()[i] * mask_[i];
}

void Dropout::set_batch_rows(int64_t first, int64_t global_rows) {
  detail::check(first >= 0 && global_rows >= 0 && (global_rows == 0 || first < global_rows),
                "Dropout::set_batch_rows",
                "expected 0 <= first < global_rows (or global_rows = 0), got first ", first, " of ",
                global_rows);
  first_row_ = first;
  global_rows_ = global_rows;
}

void Dropout::backward(const Tensor& /*in*/, const Tensor& /*out*/, const Tensor& dout,
                       Tensor* din) {
  if (din == nullptr) return;
  if (!last_train_) {
    std::copy(dout.span().begin(), dout.span().end(), din->span().begin());
    return;
  }
  for (size_t i = 0; i < mask_.size(); ++i) din->data()[i] = dout.data()[i] * mask_[i];
}

}  // namespace bnorm::nn
