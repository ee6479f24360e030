// Optimized kernels for channels-first tensors with spatial size S > 1 (NCHW): channel c is N
// contiguous strips of S values, C * S apart. Inputs that come from memory are summed strip by
// strip in memory order and read again in memory order for the normalize (or dx): a core reads
// strips C * S apart from memory far slower than one stream (tuning::kFromMemoryBytes). Inputs in
// cache go channel by channel: a channel that fits in L2 is one work item, summed and then
// normalized at once, so x is read once; larger channels are split into items of whole strips
// whose partial sums merge in item order. Which way a problem goes and how it is cut into items
// depend on the shape only, so any number of threads gives the same bits. See vector_ops.hpp for
// how the headers are compiled.
#pragma once

#include <cmath>
#include <cstdint>

#include "bnorm/layout.hpp"
#include "bnorm/moments.hpp"
#include "kernels/cpu/channel_math.hpp"
#include "kernels/cpu/parallel_loops.hpp"
#include "kernels/cpu/scratch.hpp"
#include "kernels/cpu/span_loops.hpp"
#include "kernels/cpu/streaming_stores.hpp"
#include "kernels/cpu/tuning.hpp"
#include "kernels/cpu/vector_ops.hpp"

namespace bnorm::kernels::BNORM_CPU_NS {
namespace {

// Strips of about kItemElems values (at least one): a work item's worth.
inline int64_t item_strips(const Extents& e) { return max64(tuning::kItemElems / e.s, 1); }

// How a channels-first problem is cut into work items: strips [n0, n1) of one channel.
struct StripItems {
  int64_t strips_per_item;
  int64_t items_per_channel;

  explicit StripItems(const Extents& e)
      : strips_per_item(e.per_channel() <= tuning::kFuseChannelElems ? e.n : item_strips(e)),
        items_per_channel(ceil_div(e.n, strips_per_item)) {}

  int64_t channel(int64_t item) const { return item / items_per_channel; }
  int64_t first(int64_t item) const { return item % items_per_channel * strips_per_item; }
  int64_t last(const Extents& e, int64_t item) const {
    return min64(e.n, first(item) + strips_per_item);
  }
};

inline int64_t strip_offset(const Extents& e, int64_t n, int64_t c) { return (n * e.c + c) * e.s; }

// Channels per work item when channels fit in cache: neighbouring channels' strips are adjacent
// in memory, so a group reads runs of G * S values per sample instead of S. At most kMaxGroup,
// as many as fit in the fused-channel budget together (counting every input tensor; half of it
// for long strips), and few enough to leave kMinGroupItems items to share out.
constexpr int64_t kMaxGroup = tuning::kMaxGroup;

inline int64_t channel_group(const Extents& e, int64_t inputs) {
  const int64_t budget =
      e.s >= tuning::kLongStripElems ? tuning::kFuseChannelElems / 2 : tuning::kFuseChannelElems;
  const int64_t fit = budget / (inputs * e.per_channel());
  const int64_t share = e.c / tuning::kMinGroupItems;
  int64_t g = min64(kMaxGroup, min64(fit, share));
  return g > 1 ? g : 1;
}

// The strips of one channel lie C * S apart: short ones would each start with a full memory
// latency, so the kernels prefetch the strip kAhead steps ahead.
constexpr int64_t kAhead = tuning::kPrefetchAhead;

template <typename T>
inline void prefetch_strip(const T* p, int64_t len, bool for_write) {
  const int64_t n = min64(len * static_cast<int64_t>(sizeof(T)), tuning::kPrefetchStripBytes);
  const char* b = reinterpret_cast<const char*>(p);
  for (int64_t i = 0; i < n; i += tuning::kLineBytes) {
    if (for_write) {
      __builtin_prefetch(b + i, 1);
    } else {
      __builtin_prefetch(b + i, 0);
    }
  }
}

// Split channels: sums every item of every channel (threads share the items), then merges each
// channel's items in item order and returns finish(c, sums) per channel in this thread's scratch
// ([C] of R), so any number of threads gives the same bits.
template <typename R, typename SumItem, typename Finish>
R* merged_channel_sums(const Extents& e, const StripItems& items, bool parallel,
                       const SumItem& sum_item, const Finish& finish) {
  const int64_t count = e.c * items.items_per_channel;
  auto* partial = static_cast<ShiftedSums*>(thread_scratch(
      static_cast<size_t>(count) * sizeof(ShiftedSums) + static_cast<size_t>(e.c) * sizeof(R)));
  auto* out = reinterpret_cast<R*>(partial + count);
  for_each_item(count, parallel, [&](int64_t i) {
    partial[i] = sum_item(items.channel(i), items.first(i), items.last(e, i));
  });
  for (int64_t c = 0; c < e.c; ++c) {
    ShiftedSums sums;
    for (int64_t k = 0; k < items.items_per_channel; ++k) {
      sums.add(partial[c * items.items_per_channel + k]);
    }
    out[c] = finish(c, sums);
  }
  return out;
}

// Whether the sums go in memory order: the inputs (x; x and dy) come from memory, and strips
// are long enough for their sums (24 bytes each) to stay small beside them.
template <typename T>
inline bool sums_in_memory_order(const Extents& e, int64_t inputs) {
  return e.numel() * static_cast<int64_t>(sizeof(T)) * inputs > tuning::kFromMemoryBytes &&
         e.s >= tuning::kMemoryOrderMinStrip;
}

// f(j0, j1) for runs [j0, j1) of consecutive strips j = n * C + c (strip j at j * S) of about
// kItemElems values, which threads share; with `stream`, each run ends with the streaming fence.
template <typename F>
void for_each_strip_run(const Extents& e, bool parallel, bool stream, const F& f) {
  const int64_t strips = e.n * e.c;
  const int64_t per_run = item_strips(e);
  for_each_item(ceil_div(strips, per_run), parallel, [&](int64_t i) {
    f(i * per_run, min64(strips, (i + 1) * per_run));
    if (stream) stream_fence();
  });
}

// Whether consecutive strips go as one span (normalize_strips): they hold a vector or more, but
// not whole lines (strips of whole lines already give whole vectors and lines).
template <typename T>
inline bool strips_as_one_span(const Extents& e) {
  return e.s >= kLanes<T> && e.s * static_cast<int64_t>(sizeof(T)) % tuning::kLineBytes != 0;
}

// y = normalize(x) over strips [j0, j1), strip j with f[(first + j - j0) % channels]; `stream`:
// non-temporal stores.
template <typename T, bool kRelu>
void normalize_strip_run(const T* x, T* y, const Extents& e, int64_t j0, int64_t j1,
                         const Affine<T>* f, int64_t first, int64_t channels, bool stream) {
  const int64_t o = j0 * e.s;
  if (strips_as_one_span<T>(e)) {
    stream ? normalize_strips<T, kRelu, true>(x + o, y + o, j1 - j0, e.s, f, first, channels)
           : normalize_strips<T, kRelu, false>(x + o, y + o, j1 - j0, e.s, f, first, channels);
    return;
  }
  for (int64_t j = j0, ch = first; j < j1; ++j, ch = next_channel(ch, channels)) {
    stream ? normalize_span<T, kRelu, true>(x + j * e.s, y + j * e.s, e.s, f[ch])
           : normalize_span<T, kRelu, false>(x + j * e.s, y + j * e.s, e.s, f[ch]);
  }
}

// Sums every strip in memory order (sum_strip(c, offset) -> ShiftedSums), then adds each
// channel's strips in sample order and returns finish(c, sums) per channel in this thread's
// scratch ([C] of R). The strips' sums take 24 bytes per strip of S values.
template <typename R, typename SumStrip, typename Finish>
R* memory_order_sums(const Extents& e, bool parallel, const SumStrip& sum_strip,
                     const Finish& finish) {
  const int64_t strips = e.n * e.c;
  auto* partial = static_cast<ShiftedSums*>(
      thread_scratch(static_cast<size_t>(strips + e.c) * sizeof(ShiftedSums) +
                     static_cast<size_t>(e.c) * sizeof(R)));
  ShiftedSums* sums = partial + strips;
  auto* out = reinterpret_cast<R*>(sums + e.c);
  for_each_strip_run(e, parallel, false, [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) partial[j] = sum_strip(j % e.c, j * e.s);
  });
  // Sample by sample, so that the strips' sums are read in memory order.
  for (int64_t c = 0; c < e.c; ++c) sums[c] = partial[c];
  for (int64_t n = 1; n < e.n; ++n) {
    for (int64_t c = 0; c < e.c; ++c) sums[c].add(partial[n * e.c + c]);
  }
  for (int64_t c = 0; c < e.c; ++c) out[c] = finish(c, sums[c]);
  return out;
}

template <typename T, bool kRelu>
void forward_train_channels_first(const T* x, const Extents& e, const double* gamma,
                                  const double* beta, double eps, T* y, Moments* moments,
                                  double* invstd_out) {
  const StripItems items(e);
  const bool parallel = use_threads(e);
  const bool stream = stream_output(e, sizeof(T));
  const auto normalize = [&](const T* xs, T* ys, Affine<T> f) {
    stream ? normalize_span<T, kRelu, true>(xs, ys, e.s, f)
           : normalize_span<T, kRelu, false>(xs, ys, e.s, f);
  };
  // The channel's first value is its pilot: every item of the channel shifts by the same value.
  const auto affine_from = [&](int64_t c, const ShiftedSums& sums) {
    moments[c] = sums.moments(static_cast<double>(value(x[strip_offset(e, 0, c)])));
    const double invstd = 1.0 / std::sqrt(moments[c].variance() + eps);
    invstd_out[c] = invstd;
    return affine_of<T>(moments[c].mean, invstd, gamma[c], beta[c]);
  };
  const auto sum_item = [&](int64_t c, int64_t n0, int64_t n1) {
    LaneSums<T> acc;
    const auto pilot = value(x[strip_offset(e, 0, c)]);
    for (int64_t n = n0; n < n1; ++n) {
      if (n + kAhead < n1) prefetch_strip(x + strip_offset(e, n + kAhead, c), e.s, false);
      add_sums(x + strip_offset(e, n, c), e.s, pilot, acc);
    }
    return acc.total((n1 - n0) * e.s);
  };
  const auto normalize_item = [&](int64_t c, int64_t n0, int64_t n1, Affine<T> f) {
    for (int64_t n = n0; n < n1; ++n) {
      if (!stream && n + kAhead < n1) {
        prefetch_strip(y + strip_offset(e, n + kAhead, c), e.s, true);
      }
      normalize(x + strip_offset(e, n, c), y + strip_offset(e, n, c), f);
    }
    if (stream) stream_fence();
  };
  if (sums_in_memory_order<T>(e, 1)) {
    const auto sum_strip = [&](int64_t c, int64_t o) {
      LaneSums<T> acc;
      add_sums(x + o, e.s, value(x[strip_offset(e, 0, c)]), acc);
      return acc.total(e.s);
    };
    const Affine<T>* affine = memory_order_sums<Affine<T>>(e, parallel, sum_strip, affine_from);
    for_each_strip_run(e, parallel, stream, [&](int64_t j0, int64_t j1) {
      normalize_strip_run<T, kRelu>(x, y, e, j0, j1, affine, j0 % e.c, e.c, stream);
    });
    return;
  }
  if (items.items_per_channel == 1) {
    // Channels [c0, c1) per item, sample by sample: each channel's sums run over n in order, as
    // in sum_item, so the grouping changes the memory order only, not the result.
    const int64_t group = channel_group(e, 1);
    for_each_item(ceil_div(e.c, group), parallel, [&](int64_t item) {
      const int64_t c0 = item * group, c1 = min64(e.c, c0 + group);
      LaneSums<T> acc[kMaxGroup];
      Affine<T> f[kMaxGroup];
      for (int64_t n = 0; n < e.n; ++n) {
        if (n + kAhead < e.n) {
          prefetch_strip(x + strip_offset(e, n + kAhead, c0), (c1 - c0) * e.s, false);
        }
        for (int64_t c = c0; c < c1; ++c) {
          add_sums(x + strip_offset(e, n, c), e.s, value(x[strip_offset(e, 0, c)]), acc[c - c0]);
        }
      }
      for (int64_t c = c0; c < c1; ++c) f[c - c0] = affine_from(c, acc[c - c0].total(e.n * e.s));
      // Backwards: the strips summed last are the likeliest to be still in L2.
      for (int64_t n = e.n - 1; n >= 0; --n) {
        const int64_t j0 = n * e.c + c0;
        normalize_strip_run<T, kRelu>(x, y, e, j0, j0 + c1 - c0, f, 0, c1 - c0, stream);
      }
      if (stream) stream_fence();
    });
    return;
  }
  const Affine<T>* affine =
      merged_channel_sums<Affine<T>>(e, items, parallel, sum_item, affine_from);
  for_each_item(e.c * items.items_per_channel, parallel, [&](int64_t i) {
    const int64_t c = items.channel(i);
    normalize_item(c, items.first(i), items.last(e, i), affine[c]);
  });
}

template <typename T, bool kRelu>
void forward_infer_channels_first(const T* x, const Extents& e, const double* mean,
                                  const double* invstd, const double* gamma, const double* beta,
                                  T* y) {
  auto* affine =
      static_cast<Affine<T>*>(thread_scratch(static_cast<size_t>(e.c) * sizeof(Affine<T>)));
  for (int64_t c = 0; c < e.c; ++c) affine[c] = affine_of<T>(mean[c], invstd[c], gamma[c], beta[c]);
  const bool stream = stream_output(e, sizeof(T));
  for_each_strip_run(e, use_threads(e), stream, [&](int64_t j0, int64_t j1) {
    normalize_strip_run<T, kRelu>(x, y, e, j0, j1, affine, j0 % e.c, e.c, stream);
  });
}

// dbeta = sum g and dgamma = sum g * xhat in one read of x and dy, then dx in a second; for a
// channel that fits in cache the second read comes from cache.
template <typename T, bool kRelu>
void backward_channels_first(const T* x, const T* dy, const Extents& e, const double* mean,
                             const double* invstd, const double* gamma, const double* beta,
                             bool through_stats, T* dx, double* dgamma, double* dbeta) {
  const StripItems items(e);
  const bool parallel = use_threads(e);
  const bool stream = stream_output(e, sizeof(T));
  const auto dx_of = [&](int64_t o, Affine<T> f, GradAffine<T> k) {
    stream ? dx_span<T, kRelu, true>(x + o, dy + o, dx + o, e.s, f, k)
           : dx_span<T, kRelu, false>(x + o, dy + o, dx + o, e.s, f, k);
  };
  const auto affine = [&](int64_t c) {
    return affine_of<T>(mean[c], invstd[c], gamma[c], beta[c]);
  };
  // dx over strips [j0, j1), strip j with d[(first + j - j0) % channels].
  const auto dx_strip_run = [&](int64_t j0, int64_t j1, const DxCoefficients<T>* d, int64_t first,
                                int64_t channels) {
    if (strips_as_one_span<T>(e)) {
      const int64_t o = j0 * e.s;
      stream ? dx_strips<T, kRelu, true>(x + o, dy + o, dx + o, j1 - j0, e.s, d, first, channels)
             : dx_strips<T, kRelu, false>(x + o, dy + o, dx + o, j1 - j0, e.s, d, first, channels);
      return;
    }
    for (int64_t j = j0, ch = first; j < j1; ++j, ch = next_channel(ch, channels)) {
      dx_of(j * e.s, d[ch].f, d[ch].k);
    }
  };
  const auto sum_item = [&](int64_t c, int64_t n0, int64_t n1) {
    LaneSums<T> acc;
    const Affine<T> f = affine(c);
    for (int64_t n = n0; n < n1; ++n) {
      if (n + kAhead < n1) {
        prefetch_strip(x + strip_offset(e, n + kAhead, c), e.s, false);
        prefetch_strip(dy + strip_offset(e, n + kAhead, c), e.s, false);
      }
      const int64_t o = strip_offset(e, n, c);
      add_grad_sums<T, kRelu>(x + o, dy + o, e.s, f, acc);
    }
    return acc.total((n1 - n0) * e.s);
  };
  const auto finish_channel = [&](int64_t c, const ShiftedSums& g) {
    dbeta[c] = g.s1;
    dgamma[c] = dgamma_of(g, mean[c], invstd[c], static_cast<double>(affine(c).center));
    return grad_affine_of<T>(mean[c], invstd[c], gamma[c], affine(c).center, dgamma[c], dbeta[c],
                             e.per_channel(), through_stats);
  };
  const auto dx_item = [&](int64_t c, int64_t n0, int64_t n1, GradAffine<T> k) {
    const Affine<T> f = affine(c);
    for (int64_t n = n0; n < n1; ++n) {
      if (!stream && n + kAhead < n1) {
        prefetch_strip(dx + strip_offset(e, n + kAhead, c), e.s, true);
      }
      dx_of(strip_offset(e, n, c), f, k);
    }
    if (stream) stream_fence();
  };
  // Long strips stay channel by channel: 12 bytes per element to memory order's 20, the faster
  // at two threads, where the bus is the limit (memory order took 1.08-1.28x the time at
  // 64x128x56x56); short strips read too slowly that way.
  if (sums_in_memory_order<T>(e, 2) && e.s < tuning::kLongStripElems) {
    const auto sum_strip = [&](int64_t c, int64_t o) {
      LaneSums<T> acc;
      add_grad_sums<T, kRelu>(x + o, dy + o, e.s, affine(c), acc);
      return acc.total(e.s);
    };
    const auto finish = [&](int64_t c, const ShiftedSums& g) {
      return DxCoefficients<T>{affine(c), finish_channel(c, g)};
    };
    const DxCoefficients<T>* d =
        memory_order_sums<DxCoefficients<T>>(e, parallel, sum_strip, finish);
    if (dx == nullptr) return;
    for_each_strip_run(e, parallel, stream,
                       [&](int64_t j0, int64_t j1) { dx_strip_run(j0, j1, d, j0 % e.c, e.c); });
    return;
  }
  if (items.items_per_channel == 1) {
    // Groups of channels sample by sample, as in forward_train_channels_first.
    const int64_t group = channel_group(e, 2);
    for_each_item(ceil_div(e.c, group), parallel, [&](int64_t item) {
      const int64_t c0 = item * group, c1 = min64(e.c, c0 + group);
      LaneSums<T> acc[kMaxGroup];
      DxCoefficients<T> d[kMaxGroup];
      for (int64_t c = c0; c < c1; ++c) d[c - c0].f = affine(c);
      for (int64_t n = 0; n < e.n; ++n) {
        if (n + kAhead < e.n) {
          prefetch_strip(x + strip_offset(e, n + kAhead, c0), (c1 - c0) * e.s, false);
          prefetch_strip(dy + strip_offset(e, n + kAhead, c0), (c1 - c0) * e.s, false);
        }
        for (int64_t c = c0; c < c1; ++c) {
          const int64_t o = strip_offset(e, n, c);
          add_grad_sums<T, kRelu>(x + o, dy + o, e.s, d[c - c0].f, acc[c - c0]);
        }
      }
      for (int64_t c = c0; c < c1; ++c) {
        d[c - c0].k = finish_channel(c, acc[c - c0].total(e.n * e.s));
      }
      if (dx == nullptr) return;
      for (int64_t n = e.n - 1; n >= 0; --n) {  // backwards, as in the forward
        const int64_t j0 = n * e.c + c0;
        dx_strip_run(j0, j0 + c1 - c0, d, 0, c1 - c0);
      }
      if (stream) stream_fence();
    });
    return;
  }
  const GradAffine<T>* grad =
      merged_channel_sums<GradAffine<T>>(e, items, parallel, sum_item, finish_channel);
  if (dx == nullptr) return;
  for_each_item(e.c * items.items_per_channel, parallel, [&](int64_t i) {
    const int64_t c = items.channel(i);
    dx_item(c, items.first(i), items.last(e, i), grad[c]);
  });
}

}  // namespace
}  // namespace bnorm::kernels::BNORM_CPU_NS
