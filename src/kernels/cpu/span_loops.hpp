// Loops over one contiguous span of a channel (a strip of a channels-first tensor): sums for the
// statistics and the gradient, the normalize and dx, each with one set of per-channel
// coefficients broadcast to every lane. See vector_ops.hpp for how the headers are compiled.
#pragma once

#include <cstdint>

#include "kernels/cpu/channel_math.hpp"
#include "kernels/cpu/streaming_stores.hpp"
#include "kernels/cpu/tuning.hpp"
#include "kernels/cpu/vector_ops.hpp"

namespace bnorm::kernels::BNORM_CPU_NS {
namespace {

// The strip sums prefetch tuning::kSpanPrefetchBytes ahead in all, shared among the kStreams
// inputs they read: the widening to float64 fills the out-of-order window with work before the
// loads from memory run far enough ahead on their own. Steps of two vectors at p [i] with
// i < prefetch_end<T, kStreams>(len) prefetch within p [len].
template <int kStreams>
constexpr int64_t kPrefetchBytesPerStream = tuning::kSpanPrefetchBytes / kStreams;

template <typename T, int kStreams>
constexpr int64_t prefetch_end(int64_t len) {
  constexpr int64_t kAhead = kPrefetchBytesPerStream<kStreams> / static_cast<int64_t>(sizeof(T));
  constexpr int64_t kStep = 2 * kLanes<T>;
  return len - kAhead - kStep + 1;
}

// Prefetches the lines of the step of two vectors at p [i], as far ahead as prefetch_end says.
template <typename T, int kStreams>
inline void prefetch_step_ahead(const T* p, int64_t i) {
  constexpr int64_t kStep = 2 * kLanes<T> * static_cast<int64_t>(sizeof(T));
  const char* b = reinterpret_cast<const char*>(p + i) + kPrefetchBytesPerStream<kStreams>;
  for (int64_t k = 0; k < kStep; k += tuning::kLineBytes) __builtin_prefetch(b + k);
}

// acc += sums of (x - pilot) and its square over p [len].
template <typename T>
void add_sums(const T* p, int64_t len, compute_t<T> pilot, LaneSums<T>& acc) {
  using V = typename Simd<T>::V;
  constexpr int64_t L = kLanes<T>;
  const V pv = V{} + pilot;
  int64_t i = 0;
  WideSums<T> a1, a2, b1, b2;  // two steps' sums: independent chains for the adder latency
  const auto step = [&](int64_t j) {
    const V u = load<V>(p + j) - pv, w = load<V>(p + j + L) - pv;
    a1.add(u), a2.add_square(u);
    b1.add(w), b2.add_square(w);
  };
  // Unrolled: GCC leaves the loops rolled, and unrolled the sums ran 1.2-1.4x faster on a Zen 5.
  const int64_t prefetched = prefetch_end<T, 1>(len);
#pragma GCC unroll 4
  for (; i < prefetched; i += 2 * L) prefetch_step_ahead<T, 1>(p, i), step(i);
#pragma GCC unroll 4
  for (; i + 2 * L <= len; i += 2 * L) step(i);
  if (i + L <= len) {
    const V u = load<V>(p + i) - pv;
    a1.add(u);
    a2.add_square(u);
    i += L;
  }
  a1.add(b1);
  a2.add(b2);
  acc.v1 += a1.wide();
  acc.v2 += a2.wide();
  if (i < len && len >= L) {
    const V u = keep_tail<T>(load<V>(p + len - L) - pv, len - i);
    WideSums<T> t1, t2;
    t1.add(u);
    t2.add_square(u);
    acc.v1 += t1.wide();
    acc.v2 += t2.wide();
    i = len;
  }
  for (; i < len; ++i) {
    const double u = static_cast<double>(value(p[i]) - pilot);
    acc.t1 += u;
    acc.t2 += u * u;
  }
}

// y [len] = activation(scale * (x - center) + bias); y may be x. kStream: non-temporal stores on
// whole cache lines, plain stores on the partial lines at both ends (write_streaming), every
// element with the same expression.
template <typename T, bool kRelu, bool kStream = false>
void normalize_span(const T* x, T* y, int64_t len, Affine<T> f) {
  using V = typename Simd<T>::V;
  constexpr int64_t L = kLanes<T>;
  const V cv = V{} + f.center, sv = V{} + f.scale, bv = V{} + f.bias;
  int64_t i = 0;
  if constexpr (kStream) {
    const auto one = [&](int64_t j) {
      y[j] = stored<T>(normalized<kRelu>(value(x[j]), f.center, f.scale, f.bias));
    };
    write_streaming(y, len, one, [&](int64_t j) {
      const V v = normalized<kRelu>(load<V>(x + j), cv, sv, bv);
      return v;
    });
    return;
  }
  for (; i + L <= len; i += L) {
    const V v = normalized<kRelu>(load<V>(x + i), cv, sv, bv);
    store(y + i, v);
  }
  if (i < len && len >= L && x != y) {  // in place, the overlap would re-read outputs
    const V v = normalized<kRelu>(load<V>(x + len - L), cv, sv, bv);
    store(y + len - L, v);
    i = len;
  }
  for (; i < len; ++i) y[i] = stored<T>(normalized<kRelu>(value(x[i]), f.center, f.scale, f.bias));
}

// Writes out [0, strips * s), a run of consecutive strips of s >= L values, strip t of channel
// (first + t) % channels, as one span: vectors run on across strip ends, so a strip that is not
// whole vectors or lines costs no scalar ends of its own, and with kStream every whole line of the
// run streams (plain stores on the partial lines at its ends, as write_streaming). coef(ch): a
// channel's coefficients as vectors (C); blend(mask, a, b): a's lanes where mask, else b's (for the
// vector that crosses a strip end); vec(i, C): the output vector of elements [i, i + L);
// one(i, ch): element i alone.
// The channel of the strip after one of channel c, strips cycling through `channels` channels.
inline int64_t next_channel(int64_t c, int64_t channels) { return c + 1 == channels ? 0 : c + 1; }

template <typename T, bool kStream, typename Coef, typename Blend, typename Vec, typename One>
void write_strips(T* out, int64_t strips, int64_t s, int64_t first, int64_t channels,
                  const Coef& coef, const Blend& blend, const Vec& vec, const One& one) {
  using V = typename Simd<T>::V;
  constexpr int64_t L = kLanes<T>;
  const int64_t len = strips * s;
  int64_t i = min64(len, elements_to_alignment(out));
  for (int64_t j = 0, ch = first, end = s; j < i; ++j) {  // bfloat16: up to two vectors
    if (j == end) ch = next_channel(ch, channels), end += s;
    one(j, ch);
  }
  const WholeLines lines = whole_lines(out, i, len);  // streamed with kStream
  const auto put = [&](int64_t at, V v) {
    if constexpr (kStream) {
      if (at >= lines.begin && at < lines.end) {
        store_stream(out + at, v);
        return;
      }
    }
    store(out + at, v);
  };
  int64_t ch = first;
  for (int64_t t = 0; t < strips; ++t) {
    const auto here = coef(ch);
    const int64_t end = (t + 1) * s;
    for (; i + L <= end; i += L) put(i, vec(i, here));
    if (i < end && i + L <= len) {  // the vector crossing into strip t + 1 (s >= L: no further)
      put(i, vec(i, blend(lanes_below<T>(end - i), here, coef(next_channel(ch, channels)))));
      i += L;
    } else if (t + 1 == strips) {
      for (; i < len; ++i) one(i, ch);  // the run's last elements, fewer than L
    }
    ch = next_channel(ch, channels);
  }
}

// normalize_span over a run of consecutive strips at x and y (y may be x), as write_strips: strip t
// with f[(first + t) % channels].
template <typename T, bool kRelu, bool kStream>
void normalize_strips(const T* x, T* y, int64_t strips, int64_t s, const Affine<T>* f,
                      int64_t first, int64_t channels) {
  using V = typename Simd<T>::V;
  struct C {
    V center, scale, bias;
  };
  write_strips<T, kStream>(
      y, strips, s, first, channels,
      [&](int64_t ch) {
        return C{V{} + f[ch].center, V{} + f[ch].scale, V{} + f[ch].bias};
      },
      [](auto m, const C& a, const C& b) {
        return C{m ? a.center : b.center, m ? a.scale : b.scale, m ? a.bias : b.bias};
      },
      [&](int64_t i, const C& c) {
        return normalized<kRelu>(load<V>(x + i), c.center, c.scale, c.bias);
      },
      [&](int64_t i, int64_t ch) {
        const Affine<T>& a = f[ch];
        y[i] = stored<T>(normalized<kRelu>(value(x[i]), a.center, a.scale, a.bias));
      });
}

// acc += sums of g and g * (x - center) over x, dy [len], where g = dy, masked by the recomputed
// forward output y > 0 when kRelu (the same expression as normalize_span, so the same mask). The
// sums of g (dbeta) widen every vector into float64 lanes; the products go in float lanes over
// blocks of kFloatBlockVectors vectors before widening, as the row-major gradient sums do: widening
// both factors of every product made the loop compute-bound below the memory rate.
template <typename T, bool kRelu>
void add_grad_sums(const T* x, const T* dy, int64_t len, Affine<T> f, LaneSums<T>& acc) {
  using V = typename Simd<T>::V;
  constexpr int64_t L = kLanes<T>;
  constexpr int64_t kBlock = tuning::kFloatBlockVectors * L;
  const V cv = V{} + f.center, sv = V{} + f.scale, bv = V{} + f.bias;
  int64_t i = 0;
  WideSums<T> a1, a2, b1, b2;  // two steps' sums: independent chains for the FMA latency
  const int64_t prefetched = prefetch_end<T, 2>(len);
  for (; i + kBlock <= len; i += kBlock) {
    V q1{}, q2{};  // the block's products in float lanes
#pragma GCC unroll 4
    for (int64_t j = i; j < i + kBlock; j += 2 * L) {
      if (j < prefetched) prefetch_step_ahead<T, 2>(x, j), prefetch_step_ahead<T, 2>(dy, j);
      const V u = load<V>(x + j) - cv, w = load<V>(x + j + L) - cv;
      const V g = masked_dy<kRelu>(u, load<V>(dy + j), sv, bv);
      const V h = masked_dy<kRelu>(w, load<V>(dy + j + L), sv, bv);
      a1.add(g), b1.add(h);
      q1 += g * u, q2 += h * w;
    }
    a2.add(q1 + q2);
  }
  // The steps left, fewer than a block: products widened.
#pragma GCC unroll 4
  for (; i + 2 * L <= len; i += 2 * L) {
    const V u = load<V>(x + i) - cv, w = load<V>(x + i + L) - cv;
    const V g = masked_dy<kRelu>(u, load<V>(dy + i), sv, bv);
    const V h = masked_dy<kRelu>(w, load<V>(dy + i + L), sv, bv);
    a1.add(g), b1.add(h);
    a2.add_product(g, u), b2.add_product(h, w);
  }
  if (i + L <= len) {
    const V u = load<V>(x + i) - cv;
    const V g = masked_dy<kRelu>(u, load<V>(dy + i), sv, bv);
    a1.add(g);
    a2.add_product(g, u);
    i += L;
  }
  a1.add(b1);
  a2.add(b2);
  acc.v1 += a1.wide();
  acc.v2 += a2.wide();
  if (i < len && len >= L) {
    const V u = load<V>(x + len - L) - cv;
    V g = load<V>(dy + len - L);
    g = masked_dy<kRelu>(u, g, sv, bv);
    g = keep_tail<T>(g, len - i);
    WideSums<T> t1, t2;
    t1.add(g);
    t2.add_product(g, u);
    acc.v1 += t1.wide();
    acc.v2 += t2.wide();
    i = len;
  }
  for (; i < len; ++i) {
    const auto u = value(x[i]) - f.center;
    auto g = value(dy[i]);
    g = masked_dy<kRelu>(u, g, f.scale, f.bias);
    acc.t1 += static_cast<double>(g);
    acc.t2 += static_cast<double>(g) * static_cast<double>(u);
  }
}

// dx [len] = a * g + b * (x - center) + c0 with g as in add_grad_sums; dx may be dy. kStream:
// non-temporal stores, as in normalize_span.
template <typename T, bool kRelu, bool kStream = false>
void dx_span(const T* x, const T* dy, T* dx, int64_t len, Affine<T> f, GradAffine<T> k) {
  using V = typename Simd<T>::V;
  constexpr int64_t L = kLanes<T>;
  const V cv = V{} + f.center, sv = V{} + f.scale, bv = V{} + f.bias;
  const V av = V{} + k.a, bkv = V{} + k.b, c0v = V{} + k.c0;
  int64_t i = 0;
  if constexpr (kStream) {
    const auto one = [&](int64_t j) {
      const auto u = value(x[j]) - f.center;
      auto g = value(dy[j]);
      g = masked_dy<kRelu>(u, g, f.scale, f.bias);
      dx[j] = stored<T>(dx_value(u, g, k.a, k.b, k.c0));
    };
    write_streaming(dx, len, one, [&](int64_t j) {
      const V u = load<V>(x + j) - cv;
      V g = load<V>(dy + j);
      g = masked_dy<kRelu>(u, g, sv, bv);
      return dx_value(u, g, av, bkv, c0v);
    });
    return;
  }
  for (; i + L <= len; i += L) {
    const V u = load<V>(x + i) - cv;
    V g = load<V>(dy + i);
    g = masked_dy<kRelu>(u, g, sv, bv);
    store(dx + i, dx_value(u, g, av, bkv, c0v));
  }
  if (i < len && len >= L && dx != dy) {  // in place, the overlap would re-read outputs
    const V u = load<V>(x + len - L) - cv;
    V g = load<V>(dy + len - L);
    g = masked_dy<kRelu>(u, g, sv, bv);
    store(dx + len - L, dx_value(u, g, av, bkv, c0v));
    i = len;
  }
  for (; i < len; ++i) {
    const auto u = value(x[i]) - f.center;
    auto g = value(dy[i]);
    g = masked_dy<kRelu>(u, g, f.scale, f.bias);
    dx[i] = stored<T>(dx_value(u, g, k.a, k.b, k.c0));
  }
}

// dx_span over a run of consecutive strips at x, dy and dx (dx may be dy), as write_strips: strip
// t with d[(first + t) % channels].
template <typename T, bool kRelu, bool kStream>
void dx_strips(const T* x, const T* dy, T* dx, int64_t strips, int64_t s,
               const DxCoefficients<T>* d, int64_t first, int64_t channels) {
  using V = typename Simd<T>::V;
  struct C {
    V center, scale, bias, a, b, c0;
  };
  write_strips<T, kStream>(
      dx, strips, s, first, channels,
      [&](int64_t ch) {
        const DxCoefficients<T>& c = d[ch];
        return C{V{} + c.f.center, V{} + c.f.scale, V{} + c.f.bias,
                 V{} + c.k.a,      V{} + c.k.b,     V{} + c.k.c0};
      },
      [](auto m, const C& p, const C& q) {
        return C{m ? p.center : q.center, m ? p.scale : q.scale, m ? p.bias : q.bias,
                 m ? p.a : q.a,           m ? p.b : q.b,         m ? p.c0 : q.c0};
      },
      [&](int64_t i, const C& c) {
        const V u = load<V>(x + i) - c.center;
        const V g = masked_dy<kRelu>(u, load<V>(dy + i), c.scale, c.bias);
        return dx_value(u, g, c.a, c.b, c.c0);
      },
      [&](int64_t i, int64_t ch) {
        const DxCoefficients<T>& c = d[ch];
        const auto u = value(x[i]) - c.f.center;
        const auto g = masked_dy<kRelu>(u, value(dy[i]), c.f.scale, c.f.bias);
        dx[i] = stored<T>(dx_value(u, g, c.k.a, c.k.b, c.k.c0));
      });
}

}  // namespace
}  // namespace bnorm::kernels::BNORM_CPU_NS
