// 2-D convolution on NCHW float tensors, forward and backward, as plain functions on buffers (the
// layer classes of the engine wrap them). The fast path lowers the whole batch with im2col to one
// GEMM; conv2d_forward_direct is the plain six-loop definition, kept as the tests' oracle.
#pragma once

#include <cstdint>
#include <span>

namespace bnorm::nn {

struct Conv2dShape {
  int64_t n = 0, c = 0, h = 0, w = 0;  // input [N, C, H, W]
  int64_t k = 0;                       // output channels
  int64_t kh = 3, kw = 3;              // kernel [K, C, kh, kw]
  int64_t stride = 1, pad = 0;
  int64_t out_h() const { return (h + 2 * pad - kh) / stride + 1; }
  int64_t out_w() const { return (w + 2 * pad - kw) / stride + 1; }
  int64_t col_rows() const { return c * kh * kw; }
  int64_t col_cols() const { return n * out_h() * out_w(); }
};

// Throws bnorm::Error unless every extent is positive and the kernel fits the padded input.
void check_conv2d_shape(const Conv2dShape& s);

// y [N, K, OH, OW] = conv(x [N, C, H, W], weight [K, C, kh, kw]) + bias [K] (bias may be empty).
// col: scratch of col_rows() * col_cols() floats.
void conv2d_forward(const Conv2dShape& s, std::span<const float> x, std::span<const float> weight,
                    std::span<const float> bias, std::span<float> y, std::span<float> col);

// With y = W * col(x) + b per output position:
//   dweight = sum over positions of dy * col(x)^T,  dbias = sum of dy,  dx = col2im(W^T dy).
// dweight and dbias are accumulated into (+=); dx is overwritten and may be empty (first layer).
// col must still hold col(x) from the forward pass; dcol is scratch of the same size.
void conv2d_backward(const Conv2dShape& s, std::span<const float> dy, std::span<const float> weight,
                     std::span<const float> col, std::span<float> dx, std::span<float> dweight,
                     std::span<float> dbias, std::span<float> dcol);

// The definition, in double: the oracle for tests.
void conv2d_forward_direct(const Conv2dShape& s, std::span<const double> x,
                           std::span<const double> weight, std::span<const double> bias,
                           std::span<double> y);

}  // namespace bnorm::nn
