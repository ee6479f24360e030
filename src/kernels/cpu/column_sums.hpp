// Per-column sums over runs of rows of a row-major [M, C] tensor, for the statistics (sums of
// x - pilot and its square) and the gradient (sums of dy and dy * (x - center)): column tiles for
// data in L1, rows in memory order beyond it. Blocks of kFloatBlockRows rows sum in float lanes,
// then in float64 (WideSums and the per-channel sums). See vector_ops.hpp for how the headers are
// compiled.
#pragma once

#include <cstdint>

#include "bnorm/layout.hpp"
#include "kernels/cpu/channel_math.hpp"
#include "kernels/cpu/tuning.hpp"
#include "kernels/cpu/vector_ops.hpp"

namespace bnorm::kernels::BNORM_CPU_NS {
namespace {

// Whether `inputs` tensors of e's size are larger than L1: then the statistics read rows in
// memory order (column_sums_in_row_order), which the prefetchers follow; the column tiles win
// only where every tile reads from L1.
inline bool beyond_l1(const Extents& e, int64_t inputs, int64_t element_bytes) {
  return e.numel() * inputs * element_bytes > tuning::kL1Bytes;
}

// How column sums read their rows: column tiles (data in L1), in row order (beyond L1), and in
// row order from memory (inputs together larger than tuning::kFromMemoryBytes).
enum class SumOrder { kColumnTiles, kRowOrder, kRowOrderFromMemory };

// inputs: tensors the sums read (x; x and dy), of element_bytes each.
inline SumOrder sum_order(const Extents& e, int64_t inputs, int64_t element_bytes) {
  if (!beyond_l1(e, inputs, element_bytes)) return SumOrder::kColumnTiles;
  return e.numel() * inputs * element_bytes > tuning::kFromMemoryBytes
             ? SumOrder::kRowOrderFromMemory
             : SumOrder::kRowOrder;
}

// Per-channel inputs of the column sums, in the compute type: center (and scale, bias for the
// relu mask), [C].
template <typename T>
struct Columns {
  const compute_t<T>* center;
  const compute_t<T>* scale;
  const compute_t<T>* bias;
};

// s1 [NV * L], s2 [NV * L] += sums over rows [r0, r1) of x [rows, cols] of d = x - center and
// d * d, or with a gradient g (dy, relu-masked) of g and g * d, for NV vectors of columns. Each
// block of tuning::kFloatBlockRows rows sums in the compute type's lanes, then goes into float64
// lanes (WideSums): one widening per block instead of per row (see tuning.hpp).
template <typename T, bool kGrad, bool kRelu, int NV>
void column_tile_sums(const T* x, const T* dy, int64_t cols, int64_t r0, int64_t r1, Columns<T> k,
                      double* s1, double* s2) {
  using V = typename Simd<T>::V;
  constexpr int64_t L = kLanes<T>;
  V cv[NV], sv[NV] = {}, bv[NV] = {};  // scale and bias only for the relu mask
  for (int j = 0; j < NV; ++j) {
    cv[j] = load<V>(k.center + j * L);
    if constexpr (kRelu) sv[j] = load<V>(k.scale + j * L), bv[j] = load<V>(k.bias + j * L);
  }
  // Sums of row r into (p1, p2).
  const auto add_row = [&](int64_t r, V* p1, V* p2) {
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      const V u = load<V>(x + r * cols + j * L) - cv[j];
      if constexpr (kGrad) {
        const V g = masked_dy<kRelu>(u, load<V>(dy + r * cols + j * L), sv[j], bv[j]);
        p1[j] += g;
        p2[j] += g * u;
      } else {
        p1[j] += u;
        p2[j] += u * u;
      }
    }
  };
  WideSums<T> w1[NV], w2[NV];
  for (int64_t rb = r0; rb < r1; rb += tuning::kFloatBlockRows) {
    const int64_t re = min64(r1, rb + tuning::kFloatBlockRows);
    // Two rows per step into separate sums: 4 * NV chains for the FMA latency.
    V a1[NV] = {}, a2[NV] = {}, b1[NV] = {}, b2[NV] = {};
    int64_t r = rb;
    for (; r + 2 <= re; r += 2) {
      add_row(r, a1, a2);
      add_row(r + 1, b1, b2);
    }
    if (r < re) add_row(r, a1, a2);
    for (int j = 0; j < NV; ++j) w1[j].add(a1[j] + b1[j]), w2[j].add(a2[j] + b2[j]);
  }
  for (int j = 0; j < NV; ++j) w1[j].add_to(s1 + j * L), w2[j].add_to(s2 + j * L);
}

// Accumulators and per-channel vectors a row-order loop may keep in registers: three quarters of
// the register file, leaving the rest for the loads and products.
constexpr int64_t kRegisterBudget = kVectorRegisters * 3 / 4;
// Registers per vector of a row in row_sums_in_registers: its sums (two, four with two rows per
// step), its center, and scale and bias for the relu mask.
constexpr int64_t registers_per_vector(bool grad, bool relu, bool pairs) {
  return (grad && pairs ? 4 : 2) + 1 + (relu ? 2 : 0);
}
// The statistics need the fewest: 3 per vector.
constexpr int kMaxRegisterVectors = static_cast<int>(kRegisterBudget / 3);

// s1 [width], s2 [width] += column sums over rows [r0, r1) as in column_sums_in_row_order, of a
// block of `width` columns of rows `stride` apart that is exactly NV vectors (the last one ending
// at the block's end, which needs L columns of the row up to there): a block's accumulators stay in
// registers, where the array of column_sums_in_row_order costs a load and a store per vector and
// sum in every row.
template <typename T, bool kGrad, bool kRelu, int NV>
void row_sums_in_registers(const T* x, const T* dy, int64_t stride, int64_t width, int64_t r0,
                           int64_t r1, Columns<T> k, double* s1, double* s2, bool pairs) {
  using V = typename Simd<T>::V;
  constexpr int64_t L = kLanes<T>;
  const int64_t whole = width / L;  // NV or NV - 1
  int64_t col[NV];
  V cv[NV], sv[NV] = {}, bv[NV] = {};
  for (int j = 0; j < NV; ++j) {
    col[j] = j < whole ? j * L : width - L;
    cv[j] = load<V>(k.center + col[j]);
    if constexpr (kRelu) sv[j] = load<V>(k.scale + col[j]), bv[j] = load<V>(k.bias + col[j]);
  }
  const auto add_row = [&](int64_t r, V* p1, V* p2) {
#pragma GCC unroll 16
    for (int j = 0; j < NV; ++j) {
      V u = load<V>(x + r * stride + col[j]) - cv[j];
      if constexpr (kGrad) {
        V g = masked_dy<kRelu>(u, load<V>(dy + r * stride + col[j]), sv[j], bv[j]);
        if (j == whole) g = keep_tail<T>(g, width - whole * L);
        p1[j] += g;
        p2[j] += g * u;
      } else {
        if (j == whole) u = keep_tail<T>(u, width - whole * L);
        p1[j] += u;
        p2[j] += u * u;
      }
    }
  };
  for (int64_t rb = r0; rb < r1; rb += tuning::kFloatBlockRows) {
    const int64_t re = min64(r1, rb + tuning::kFloatBlockRows);
    V a1[NV] = {}, a2[NV] = {};
    int64_t r = rb;
    if (pairs) {
      V b1[NV] = {}, b2[NV] = {};
      for (; r + 2 <= re; r += 2) add_row(r, a1, a2), add_row(r + 1, b1, b2);
      for (int j = 0; j < NV; ++j) a1[j] += b1[j], a2[j] += b2[j];
    }
    for (; r < re; ++r) add_row(r, a1, a2);
    for (int j = 0; j < NV; ++j) {
      if (j < whole) {
        WideSums<T>::add_to(s1 + j * L, a1[j]);
        WideSums<T>::add_to(s2 + j * L, a2[j]);
      } else {  // only the lanes of columns past the whole vectors are new
        const auto d1 = WideSums<T>::widen(a1[j]), d2 = WideSums<T>::widen(a2[j]);
        for (int64_t c = whole * L; c < width; ++c) {
          s1[c] += d1[c - (width - L)], s2[c] += d2[c - (width - L)];
        }
      }
    }
  }
}

// row_sums_in_registers for blocks of `vectors` vectors when NV <= vectors <= kMaxRegisterVectors;
// false (nothing done) for longer ones.
template <typename T, bool kGrad, bool kRelu, int NV = 1>
bool sums_in_registers(int64_t vectors, const T* x, const T* dy, int64_t stride, int64_t width,
                       int64_t r0, int64_t r1, Columns<T> k, double* s1, double* s2, bool pairs) {
  if constexpr (NV > kMaxRegisterVectors) {
    return false;
  } else {
    if (vectors != NV) {
      return sums_in_registers<T, kGrad, kRelu, NV + 1>(vectors, x, dy, stride, width, r0, r1, k,
                                                        s1, s2, pairs);
    }
    row_sums_in_registers<T, kGrad, kRelu, NV>(x, dy, stride, width, r0, r1, k, s1, s2, pairs);
    return true;
  }
}

// The statistics of rows of a page or more (tuning::kPageBytes), from cache: blocks of
// kMaxRegisterVectors vectors of columns, each over one float block of rows at a time, so that the
// sums stay in registers; the same additions in the same order as the array of
// column_sums_in_row_order. Shorter rows put several column blocks of different rows on one page,
// which the page-tracking prefetcher serves worse than the array's one pass along each row.
template <typename T>
void statistics_in_column_blocks(const T* x, int64_t cols, int64_t r0, int64_t r1, Columns<T> k,
                                 double* s1, double* s2) {
  constexpr int64_t kBlock = kMaxRegisterVectors * kLanes<T>;
  const auto columns_from = [&](int64_t c0) { return Columns<T>{k.center + c0, nullptr, nullptr}; };
  for (int64_t rb = r0; rb < r1; rb += tuning::kFloatBlockRows) {
    const int64_t re = min64(r1, rb + tuning::kFloatBlockRows);
    int64_t c0 = 0;
    for (; cols - c0 > kBlock; c0 += kBlock) {
      row_sums_in_registers<T, false, false, kMaxRegisterVectors>(
          x + c0, nullptr, cols, kBlock, rb, re, columns_from(c0), s1 + c0, s2 + c0, false);
    }
    const int64_t width = cols - c0;  // 1 to kBlock columns, the row's last
    sums_in_registers<T, false, false>(ceil_div(width, kLanes<T>), x + c0, nullptr, cols, width, rb,
                                       re, columns_from(c0), s1 + c0, s2 + c0, false);
  }
}

// Vectors of columns per pass of column_sums_in_row_order: a page of a row in every build
// (tuning::kRowOrderPassBytes).
constexpr int64_t kRowOrderVectors = tuning::kRowOrderPassBytes / kVectorBytes;

// s1 [C], s2 [C] += column sums over rows [r0, r1) as in column_tile_sums, reading the rows in
// memory order into accumulators in the compute type, one per vector of columns, which go into
// s1, s2 (float64) every tuning::kFloatBlockRows rows. For data that comes from L2, L3 or memory:
// the column tiles of column_sums read a block column by column, one line per row, which the
// hardware prefetchers follow badly.
template <typename T, bool kGrad, bool kRelu>
void column_sums_in_row_order(const T* x, const T* dy, int64_t cols, int64_t r0, int64_t r1,
                              Columns<T> k, double* s1, double* s2, bool from_memory) {
  using V = typename Simd<T>::V;
  constexpr int64_t L = kLanes<T>;
  const int64_t whole = cols / L;                      // vectors that start at v * L
  const int64_t vectors = whole + (cols % L ? 1 : 0);  // plus the one that ends at the row's end
  const auto column_of = [&](int64_t v) { return v < whole ? v * L : cols - L; };
  // Gradient sums take two rows per step (fewer accumulator loads and stores), except from memory
  // on rows between one stream and one page long (see tuning.hpp); the statistics take one row,
  // since two rows per step are two interleaved streams per input.
  const int64_t row_bytes = cols * static_cast<int64_t>(sizeof(T));
  const bool pairs = kGrad && (!from_memory || row_bytes <= tuning::kOneStreamRowBytes ||
                               row_bytes >= tuning::kPageBytes);
  if (vectors * registers_per_vector(kGrad, kRelu, pairs) <= kRegisterBudget &&
      sums_in_registers<T, kGrad, kRelu>(vectors, x, dy, cols, cols, r0, r1, k, s1, s2, pairs)) {
    return;
  }
  if (!kGrad && !from_memory && row_bytes >= tuning::kPageBytes) {
    statistics_in_column_blocks(x, cols, r0, r1, k, s1, s2);
    return;
  }
  for (int64_t v0 = 0; v0 < vectors; v0 += kRowOrderVectors) {
    const int64_t v1 = min64(vectors, v0 + kRowOrderVectors);
    V acc1[kRowOrderVectors], acc2[kRowOrderVectors];
    // Sums of rows r and r + 1 (when two) into the accumulators of vector v.
    const auto add = [&](int64_t v, int64_t r, bool two) {
      const int64_t c = column_of(v);
      const V cv = load<V>(k.center + c);
      V sv{}, bv{};
      if constexpr (kRelu) sv = load<V>(k.scale + c), bv = load<V>(k.bias + c);
      V p1 = acc1[v - v0], p2 = acc2[v - v0];
      for (int64_t i = 0; i < (two ? 2 : 1); ++i) {
        V u = load<V>(x + (r + i) * cols + c) - cv;
        if constexpr (kGrad) {
          V g = load<V>(dy + (r + i) * cols + c);
          g = masked_dy<kRelu>(u, g, sv, bv);
          if (v == whole) g = keep_tail<T>(g, cols - whole * L);
          p1 += g;
          p2 += g * u;
        } else {
          if (v == whole) u = keep_tail<T>(u, cols - whole * L);
          p1 += u;
          p2 += u * u;
        }
      }
      acc1[v - v0] = p1;
      acc2[v - v0] = p2;
    };
    for (int64_t rb = r0; rb < r1; rb += tuning::kFloatBlockRows) {
      const int64_t re = min64(r1, rb + tuning::kFloatBlockRows);
      for (int64_t v = v0; v < v1; ++v) acc1[v - v0] = V{}, acc2[v - v0] = V{};
      int64_t r = rb;
      for (; pairs && r + 2 <= re; r += 2) {
        for (int64_t v = v0; v < v1; ++v) add(v, r, true);
      }
      for (; r < re; ++r) {
        for (int64_t v = v0; v < v1; ++v) add(v, r, false);
      }
      for (int64_t v = v0; v < v1; ++v) {
        if (v < whole) {
          WideSums<T>::add_to(s1 + v * L, acc1[v - v0]);
          WideSums<T>::add_to(s2 + v * L, acc2[v - v0]);
        } else {  // only the lanes of columns past the whole vectors are new
          const auto d1 = WideSums<T>::widen(acc1[v - v0]), d2 = WideSums<T>::widen(acc2[v - v0]);
          for (int64_t j = whole * L; j < cols; ++j) {
            s1[j] += d1[j - (cols - L)], s2[j] += d2[j - (cols - L)];
          }
        }
      }
    }
  }
}

// s1 [C], s2 [C] = column sums over rows [r0, r1) (see column_tile_sums). Rows go in blocks
// that fit in L1 (and at most kFlushPerLane rows, where lane sums go into s1, s2): every column
// tile of a block then reads from L1, and x is read from memory once. For data larger than L1
// (order is not kColumnTiles), column_sums_in_row_order instead.
template <typename T, bool kGrad, bool kRelu>
void column_sums(const T* x, const T* dy, int64_t cols, int64_t r0, int64_t r1, Columns<T> k,
                 double* s1, double* s2, SumOrder order) {
  constexpr int64_t L = kLanes<T>;
  const int64_t bytes_per_row = cols * static_cast<int64_t>(sizeof(T)) * (kGrad ? 2 : 1);
  const int64_t fit = tuning::kL1Bytes / bytes_per_row;
  const int64_t block = min64(tuning::kFlushPerLane, fit > 2 ? fit : 2);
  const auto shifted = [&](int64_t c) {
    return Columns<T>{k.center + c, kRelu ? k.scale + c : nullptr, kRelu ? k.bias + c : nullptr};
  };
  const auto tile = [&]<int NV>(int64_t c, int64_t rb, int64_t re, double* t1, double* t2) {
    column_tile_sums<T, kGrad, kRelu, NV>(x + c, kGrad ? dy + c : nullptr, cols, rb, re, shifted(c),
                                          t1, t2);
  };
  for (int64_t c = 0; c < cols; ++c) s1[c] = 0.0, s2[c] = 0.0;
  if (order != SumOrder::kColumnTiles && cols >= L) {
    column_sums_in_row_order<T, kGrad, kRelu>(x, dy, cols, r0, r1, k, s1, s2,
                                              order == SumOrder::kRowOrderFromMemory);
    return;
  }
  const int64_t full = cols / L * L;  // columns in whole vectors
  for (int64_t rb = r0; rb < r1; rb += block) {
    const int64_t re = min64(r1, rb + block);
    int64_t c = 0;
    for (; c + 2 * L <= full; c += 2 * L) tile.template operator()<2>(c, rb, re, s1 + c, s2 + c);
    if (c < full) tile.template operator()<1>(c, rb, re, s1 + c, s2 + c);
    if (full < cols && cols >= L) {
      // The last columns: the vector ending at the row's end, of which only the last lanes are
      // new.
      const int64_t last = cols - L;
      double t1[L] = {}, t2[L] = {};
      tile.template operator()<1>(last, rb, re, t1, t2);
      for (int64_t j = full; j < cols; ++j) s1[j] += t1[j - last], s2[j] += t2[j - last];
    }
  }
  if (cols >= L) return;
  for (int64_t c = 0; c < cols; ++c) {  // fewer columns than a vector holds
    for (int64_t r = r0; r < r1; ++r) {
      const auto u = value(x[r * cols + c]) - k.center[c];
      if constexpr (kGrad) {
        compute_t<T> scale{}, bias{};  // only for the relu mask, as in the vector paths
        if constexpr (kRelu) scale = k.scale[c], bias = k.bias[c];
        const auto g = masked_dy<kRelu>(u, value(dy[r * cols + c]), scale, bias);
        s1[c] += static_cast<double>(g);
        s2[c] += static_cast<double>(g) * static_cast<double>(u);
      } else {
        s1[c] += static_cast<double>(u);
        s2[c] += static_cast<double>(u) * static_cast<double>(u);
      }
    }
  }
}

}  // namespace
}  // namespace bnorm::kernels::BNORM_CPU_NS
