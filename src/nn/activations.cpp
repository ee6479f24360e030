// Sigmoid and ReLU, forward and backward, as flat loops over the buffers.
#include "nn/activations.hpp"

#include "nn/fast_exp.hpp"

namespace bnorm::nn {

void Sigmoid::forward(const Tensor& in, Tensor& out, Phase /*phase*/) {
  const float* x = in.data();
  float* y = out.data();
  const int64_t size = in.numel();
  // exp(-x) into y, then y = 1 / (1 + y): two passes that both vectorize.
#pragma omp simd
  for (int64_t i = 0; i < size; ++i) y[i] = -x[i];
  exp_array(std::span<const float>(y, static_cast<size_t>(size)),
            std::span<float>(y, static_cast<size_t>(size)));
#pragma omp simd
  for (int64_t i = 0; i < size; ++i) y[i] = 1.0f / (1.0f + y[i]);
}

void Sigmoid::backward(const Tensor& /*in*/, const Tensor& out, const Tensor& dout, Tensor* din) {
  if (din == nullptr) return;
  const float* y = out.data();
  const float* dy = dout.data();
  float* dx = din->data();
  const int64_t size = out.numel();
#pragma omp simd
  for (int64_t i = 0; i < size; ++i) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
}

void ReLU::forward(const Tensor& in, Tensor& out, Phase /*phase*/) {
  const float* x = in.data();
  float* y = out.data();
  const int64_t size = in.numel();
#pragma omp simd
  for (int64_t i = 0; i < size; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void ReLU::backward(const Tensor& /*in*/, const Tensor& out, const Tensor& dout, Tensor* din) {
  if (din == nullptr) return;
  const float* y = out.data();
  const float* dy = dout.data();
  float* dx = din->data();
  const int64_t size = out.numel();
#pragma omp simd
  for (int64_t i = 0; i < size; ++i) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

}  // namespace bnorm::nn
