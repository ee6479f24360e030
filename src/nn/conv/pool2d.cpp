// Pooling loops: one pass over the output windows.
#include "nn/conv/pool2d.hpp"

#include <algorithm>
#include <string>

#include "bnorm/error.hpp"

namespace bnorm::nn {

void check_pool2d_shape(const Pool2dShape& s) {
  if (s.n <= 0 || s.c <= 0 || s.h <= 0 || s.w <= 0 || s.size <= 0 || s.stride <= 0 ||
      s.size > s.h || s.size > s.w) {
    throw Error("[pool2d] expected positive extents and a window of " + std::to_string(s.size) +
                " within the " + std::to_string(s.h) + "x" + std::to_string(s.w) +
                " input, got n=" + std::to_string(s.n) + " c=" + std::to_string(s.c) +
                " stride=" + std::to_string(s.stride));
  }
}

void max_pool2d_forward(const Pool2dShape& s, std::span<const float> x, std::span<float> y,
                        std::span<int32_t> argmax) {
  check_pool2d_shape(s);
  const int64_t oh = s.out_h(), ow = s.out_w();
  for (int64_t plane = 0; plane < s.n * s.c; ++plane) {
    const int64_t base = plane * s.h * s.w;
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        int64_t best = base + oy * s.stride * s.w + ox * s.stride;
        for (int64_t i = 0; i < s.size; ++i)
          for (int64_t j = 0; j < s.size; ++j) {
            const int64_t at = base + (oy * s.stride + i) * s.w + ox * s.stride + j;
            if (x[at] > x[best]) best = at;
          }
        const int64_t o = (plane * oh + oy) * ow + ox;
        y[o] = x[best];
        argmax[o] = static_cast<int32_t>(best);
      }
  }
}

void max_pool2d_backward(const Pool2dShape& s, std::span<const float> dy,
                         std::span<const int32_t> argmax, std::span<float> dx) {
  std::fill(dx.begin(), dx.end(), 0.0f);
  for (int64_t o = 0; o < s.out_numel(); ++o) dx[argmax[o]] += dy[o];
}

void avg_pool2d_forward(const Pool2dShape& s, std::span<const float> x, std::span<float> y) {
  check_pool2d_shape(s);
  const int64_t oh = s.out_h(), ow = s.out_w();
  const float inv = 1.0f / static_cast<float>(s.size * s.size);
  for (int64_t plane = 0; plane < s.n * s.c; ++plane) {
    const float* in = x.data() + plane * s.h * s.w;
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        float acc = 0.0f;
        for (int64_t i = 0; i < s.size; ++i)
          for (int64_t j = 0; j < s.size; ++j)
            acc += in[(oy * s.stride + i) * s.w + ox * s.stride + j];
        y[(plane * oh + oy) * ow + ox] = acc * inv;
      }
  }
}

void avg_pool2d_backward(const Pool2dShape& s, std::span<const float> dy, std::span<float> dx) {
  const int64_t oh = s.out_h(), ow = s.out_w();
  const float inv = 1.0f / static_cast<float>(s.size * s.size);
  std::fill(dx.begin(), dx.end(), 0.0f);
  for (int64_t plane = 0; plane < s.n * s.c; ++plane) {
    float* out = dx.data() + plane * s.h * s.w;
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        const float g = dy[(plane * oh + oy) * ow + ox] * inv;
        for (int64_t i = 0; i < s.size; ++i)
          for (int64_t j = 0; j < s.size; ++j)
            out[(oy * s.stride + i) * s.w + ox * s.stride + j] += g;
      }
  }
}

}  // namespace bnorm::nn
