// Tensor shape bookkeeping.
#include "nn/tensor.hpp"

#include <algorithm>

#include "check.hpp"

namespace bnorm::nn {

void Tensor::resize(std::vector<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    detail::check(d >= 0, "Tensor::resize", "expected non-negative extents, got ", d);
    n *= d;
  }
  shape_ = std::move(shape);
  data_.resize(static_cast<size_t>(n));
}

void Tensor::resize(int64_t rows, int64_t cols) {
  detail::check(rows >= 0 && cols >= 0, "Tensor::resize", "expected non-negative extents, got ",
                rows, "x", cols);
  if (shape_.size() != 2) shape_.assign(2, 0);  // allocates only when the rank changes
  shape_[0] = rows;
  shape_[1] = cols;
  data_.resize(static_cast<size_t>(rows * cols));
}

void Tensor::fill(float value) { std::fill(data_.begin(), data_.end(), value); }

}  // namespace bnorm::nn
