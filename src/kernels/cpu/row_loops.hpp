// The loops that write rows of a row-major [M, C] tensor: the normalize and dx over R rows at a
// time (R rows share the loads of the per-channel arrays), or over a flat span of rows with
// non-temporal stores. Every element gets the same expression on every path. See vector_ops.hpp
// for how the headers are compiled.
#pragma once

#include <cstdint>

#include "bnorm/layout.hpp"
#include "kernels/cpu/channel_math.hpp"
#include "kernels/cpu/row_scratch.hpp"
#include "kernels/cpu/streaming_stores.hpp"
#include "kernels/cpu/tuning.hpp"
#include "kernels/cpu/vector_ops.hpp"

namespace bnorm::kernels::BNORM_CPU_NS {
namespace {

// R consecutive rows: y [R, C] = activation(scale * (x - center) + bias), per channel. From L1
// and L2, loads, not arithmetic, bound this loop: with R = 2 the rows share each load of the
// per-channel arrays. From L3 or memory two rows are two interleaved streams, which the
// prefetchers serve worse (see pair_rows). Every element gets the same expression for any R.
template <typename T, bool kRelu, int R>
void normalize_rows(const T* x, T* y, int64_t cols, const RowScratch<T>& scratch) {
  using V = typename Simd<T>::V;
  constexpr int64_t L = kLanes<T>;
  // Local copies: y could alias the scratch object as far as the compiler knows, which would
  // reload its pointers after every store.
  const struct {
    const compute_t<T>*center, *scale, *bias;
  } s{scratch.center, scratch.scale, scratch.bias};
  const auto vector_at = [&](int64_t c) {
    const V cv = load<V>(s.center + c), sv = load<V>(s.scale + c), bv = load<V>(s.bias + c);
#pragma GCC unroll 2
    for (int i = 0; i < R; ++i) {
      const V v = normalized<kRelu>(load<V>(x + i * cols + c), cv, sv, bv);
      store(y + i * cols + c, v);
    }
  };
  int64_t c = 0;
  for (; c + L <= cols; c += L) vector_at(c);
  if (c < cols && cols >= L && x != y) {  // in place, the overlap would re-read outputs
    vector_at(cols - L);
    c = cols;
  }
  for (int i = 0; i < R; ++i) {
    for (int64_t j = c; j < cols; ++j) {
      y[i * cols + j] =
          stored<T>(normalized<kRelu>(value(x[i * cols + j]), s.center[j], s.scale[j], s.bias[j]));
    }
  }
}

// Rows [r0, r1) of y = activation(scale * (x - center) + bias) with non-temporal stores (see
// stream_output), as one flat span: the rows are contiguous, so vectors run on across the
// ends of rows (with the wrapped per-channel arrays) and only the span's two ends need plain
// stores (write_streaming_rows). Same expression per element as normalize_rows.
template <typename T, bool kRelu>
void normalize_rows_streaming(const T* x, T* y, int64_t cols, int64_t r0, int64_t r1,
                              const RowScratch<T>& scratch) {
  using V = typename Simd<T>::V;
  const struct {
    const compute_t<T>*center, *scale, *bias;
  } s{scratch.center, scratch.scale, scratch.bias};
  x += r0 * cols, y += r0 * cols;
  write_streaming_rows(
      y, (r1 - r0) * cols, cols,
      [&](int64_t j, int64_t k) {
        y[j] = stored<T>(normalized<kRelu>(value(x[j]), s.center[k], s.scale[k], s.bias[k]));
      },
      [&](int64_t j, int64_t k) {
        return normalized<kRelu>(load<V>(x + j), load<V>(s.center + k), load<V>(s.scale + k),
                                 load<V>(s.bias + k));
      });
}

// Before the flat-span loops over rows of y: when a row is a whole number of vectors, every item's
// vectors start at the same channel (y's elements to alignment), and the per-channel arrays are
// moved to make their loads there aligned.
template <typename T>
void align_for_streaming(RowScratch<T>& s, const T* y, int64_t cols, bool grad) {
  if (cols * static_cast<int64_t>(sizeof(T)) % kVectorBytes != 0) return;
  s.align_vectors(cols, elements_to_alignment(y) % cols, grad);
}

// Whether the row-major normalize and dx go two rows per step: only when their data (`tensors` of
// e's size, counted in float) fits in tuning::kPairRowsMaxBytes.
inline bool pair_rows(const Extents& e, int64_t tensors) {
  return e.numel() * tensors * static_cast<int64_t>(sizeof(float)) <= tuning::kPairRowsMaxBytes;
}

// Rows [r0, r1) of y = activation(scale * (x - center) + bias): with `stream` as one span with
// non-temporal stores (normalize_rows_streaming), else two rows at a time with `pairs` or one.
template <typename T, bool kRelu>
void normalize_row_range(const T* x, T* y, int64_t cols, int64_t r0, int64_t r1,
                         const RowScratch<T>& s, bool stream, bool pairs) {
  if (stream) {
    normalize_rows_streaming<T, kRelu>(x, y, cols, r0, r1, s);
    stream_fence();
    return;
  }
  int64_t r = r0;
  for (; pairs && r + 2 <= r1; r += 2) {
    normalize_rows<T, kRelu, 2>(x + r * cols, y + r * cols, cols, s);
  }
  for (; r < r1; ++r) normalize_rows<T, kRelu, 1>(x + r * cols, y + r * cols, cols, s);
}

// R consecutive rows: dx [R, C] = a * g + b * (x - center) + c0, per channel; R rows share the
// loads of the per-channel arrays, as in normalize_rows.
template <typename T, bool kRelu, int R>
void dx_rows(const T* x, const T* dy, T* dx, int64_t cols, const RowScratch<T>& scratch) {
  using V = typename Simd<T>::V;
  constexpr int64_t L = kLanes<T>;
  const struct {  // local copies, as in normalize_rows
    const compute_t<T>*center, *scale, *bias, *a, *b, *c0;
  } s{scratch.center, scratch.scale, scratch.bias, scratch.a, scratch.b, scratch.c0};
  const auto vector_at = [&](int64_t c) {
    const V cv = load<V>(s.center + c), av = load<V>(s.a + c), bv = load<V>(s.b + c),
            c0v = load<V>(s.c0 + c);
    V sv{}, biasv{};
    if constexpr (kRelu) sv = load<V>(s.scale + c), biasv = load<V>(s.bias + c);
#pragma GCC unroll 2
    for (int i = 0; i < R; ++i) {
      const V u = load<V>(x + i * cols + c) - cv;
      V g = load<V>(dy + i * cols + c);
      g = masked_dy<kRelu>(u, g, sv, biasv);
      store(dx + i * cols + c, dx_value(u, g, av, bv, c0v));
    }
  };
  int64_t c = 0;
  for (; c + L <= cols; c += L) vector_at(c);
  if (c < cols && cols >= L && dx != dy) {  // in place, the overlap would re-read outputs
    vector_at(cols - L);
    c = cols;
  }
  for (int i = 0; i < R; ++i) {
    for (int64_t j = c; j < cols; ++j) {
      const auto u = value(x[i * cols + j]) - s.center[j];
      auto g = value(dy[i * cols + j]);
      g = masked_dy<kRelu>(u, g, s.scale[j], s.bias[j]);
      dx[i * cols + j] = stored<T>(dx_value(u, g, s.a[j], s.b[j], s.c0[j]));
    }
  }
}

// Rows [r0, r1) of dx with non-temporal stores, one flat span as in normalize_rows_streaming.
template <typename T, bool kRelu>
void dx_rows_streaming(const T* x, const T* dy, T* dx, int64_t cols, int64_t r0, int64_t r1,
                       const RowScratch<T>& scratch) {
  using V = typename Simd<T>::V;
  const struct {
    const compute_t<T>*center, *scale, *bias, *a, *b, *c0;
  } s{scratch.center, scratch.scale, scratch.bias, scratch.a, scratch.b, scratch.c0};
  x += r0 * cols, dy += r0 * cols, dx += r0 * cols;
  write_streaming_rows(
      dx, (r1 - r0) * cols, cols,
      [&](int64_t j, int64_t k) {
        const auto u = value(x[j]) - s.center[k];
        auto g = value(dy[j]);
        g = masked_dy<kRelu>(u, g, s.scale[k], s.bias[k]);
        dx[j] = stored<T>(dx_value(u, g, s.a[k], s.b[k], s.c0[k]));
      },
      [&](int64_t j, int64_t k) {
        const V u = load<V>(x + j) - load<V>(s.center + k);
        V g = load<V>(dy + j);
        g = masked_dy<kRelu>(u, g, load<V>(s.scale + k), load<V>(s.bias + k));
        return dx_value(u, g, load<V>(s.a + k), load<V>(s.b + k), load<V>(s.c0 + k));
      });
}

// Rows [r0, r1) of dx, as normalize_row_range.
template <typename T, bool kRelu>
void dx_row_range(const T* x, const T* dy, T* dx, int64_t cols, int64_t r0, int64_t r1,
                  const RowScratch<T>& s, bool stream, bool pairs) {
  if (stream) {
    dx_rows_streaming<T, kRelu>(x, dy, dx, cols, r0, r1, s);
    stream_fence();
    return;
  }
  int64_t r = r0;
  for (; pairs && r + 2 <= r1; r += 2) {
    dx_rows<T, kRelu, 2>(x + r * cols, dy + r * cols, dx + r * cols, cols, s);
  }
  for (; r < r1; ++r) dx_rows<T, kRelu, 1>(x + r * cols, dy + r * cols, dx + r * cols, cols, s);
}

}  // namespace
}  // namespace bnorm::kernels::BNORM_CPU_NS
