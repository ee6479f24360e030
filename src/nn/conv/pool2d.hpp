// Max and average pooling over NCHW float tensors (no padding), forward and backward.
#pragma once

#include <cstdint>
#include <span>

namespace bnorm::nn {

struct Pool2dShape {
  int64_t n = 0, c = 0, h = 0, w = 0;  // input [N, C, H, W]
  int64_t size = 2, stride = 2;        // square window
  int64_t out_h() const { return (h - size) / stride + 1; }
  int64_t out_w() const { return (w - size) / stride + 1; }
  int64_t out_numel() const { return n * c * out_h() * out_w(); }
};

// Throws bnorm::Error unless the extents are positive and the window fits the input.
void check_pool2d_shape(const Pool2dShape& s);

// y [N, C, OH, OW] = max over each window; argmax [N*C*OH*OW] records the input index chosen
// (the first maximum), for the backward pass.
void max_pool2d_forward(const Pool2dShape& s, std::span<const float> x, std::span<float> y,
                        std::span<int32_t> argmax);
// dx (overwritten) receives each dy at the position its window's maximum came from.
void max_pool2d_backward(const Pool2dShape& s, std::span<const float> dy,
                         std::span<const int32_t> argmax, std::span<float> dx);

void avg_pool2d_forward(const Pool2dShape& s, std::span<const float> x, std::span<float> y);
// dx (overwritten) = sum over the windows containing the position of dy / size^2.
void avg_pool2d_backward(const Pool2dShape& s, std::span<const float> dy, std::span<float> dx);

}  // namespace bnorm::nn
