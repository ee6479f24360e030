// A small float tensor for the training engine: a shape and a contiguous row-major buffer. The
// engine's layers see 2-D [N, features] tensors; resizing keeps the capacity, so buffers sized
// once for the largest batch are reused without allocating again.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace bnorm::nn {

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::vector<int64_t> shape) { resize(std::move(shape)); }

  // Sets the shape; elements are left as they were (new ones are zero). Never shrinks capacity.
  // Throws bnorm::Error on a negative extent.
  void resize(std::vector<int64_t> shape);
  // The 2-D case without building a vector: [rows, cols].
  void resize(int64_t rows, int64_t cols);

  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t dim(size_t i) const { return shape_.at(i); }
  int64_t rows() const { return shape_.empty() ? 0 : shape_[0]; }
  int64_t cols() const { return shape_.size() < 2 ? 1 : numel() / rows(); }  // features per row
  int64_t numel() const { return static_cast<int64_t>(data_.size()); }

  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  std::span<float> span() { return data_; }
  std::span<const float> span() const { return data_; }
  float& operator[](int64_t i) { return data_[static_cast<size_t>(i)]; }
  float operator[](int64_t i) const { return data_[static_cast<size_t>(i)]; }

  void fill(float value);

 private:
  std::vector<int64_t> shape_;
  std::vector<float> data_;
};

}  // namespace bnorm::nn
