// 2-D convolution on NCHW float tensors, forward and backward, as plain functions on buffers (the
// layer classes of the engine wrap them). The fast path lowers the batch with im2col to one GEMM
// per block of images; conv2d_forward_direct is the plain six-loop definition, the tests' oracle.
#pragma once

#include <cstdint>
#include <span>

namespace bnorm::nn {

struct Conv2dShape {
  int64_t n = 0, c = 0, h = 0, w = 0;  // input [N, C, H, W]
  int64_t k = 0;                       // output channels
  int64_t kh = 3, kw = 3;              // kernel [K, C, kh, kw]
  int64_t stride = 1, pad = 0;
  // Blocks the batch is split into (clamped to [1, n]). Each block of consecutive images is lowered
  // and multiplied on its own: blocks run on OpenMP threads, each with a single-threaded GEMM, and
  // the blocks' weight gradients are summed in block order, so the result depends on batch_blocks
  // but not on how many threads ran it. 1: one GEMM for the whole batch, threaded by OpenBLAS.
  int64_t batch_blocks = 1;
  int64_t blocks() const { return batch_blocks < 1 ? 1 : (batch_blocks > n ? n : batch_blocks); }
  int64_t out_h() const { return (h + 2 * pad - kh) / stride + 1; }
  int64_t out_w() const { return (w + 2 * pad - kw) / stride + 1; }
  int64_t col_rows() const { return c * kh * kw; }
  int64_t col_cols() const { return n * out_h() * out_w(); }
};

// Throws bnorm::Error unless every extent is positive and the kernel fits the padded input.
void check_conv2d_shape(const Conv2dShape& s);

// y [N, K, OH, OW] = conv(x [N, C, H, W], weight [K, C, kh, kw]) + bias [K] (bias may be empty).
// col: scratch of col_rows() * col_cols() floats; it holds one [col_rows, images*OH*OW] matrix per
// block, block after block.
void conv2d_forward(const Conv2dShape& s, std::span<const float> x, std::span<const float> weight,
                    std::span<const float> bias, std::span<float> y, std::span<float> col);

// With y = W * col(x) + b per output position:
//   dweight = sum over positions of dy * col(x)^T,  dbias = sum of dy,  dx = col2im(W^T dy).
// dweight and dbias are accumulated into (+=); dx is overwritten and may be empty (first layer).
// col must still hold col(x) from a forward pass with the same shape (batch_blocks included); dcol
// is scratch of the same size.
void conv2d_backward(const Conv2dShape& s, std::span<const float> dy, std::span<const float> weight,
                     std::span<const float> col, std::span<float> dx, std::span<float> dweight,
                     std::span<float> dbias, std::span<float> dcol);

// The definition, in double: the oracle for tests.
void conv2d_forward_direct(const Conv2dShape& s, std::span<const double> x,
                           std::span<const double> weight, std::span<const double> bias,
                           std::span<double> y);

}  // namespace bnorm::nn
