// Row-major problems so small that all rows of a few columns stay in L1 (the paper's 60 x 100
// layer). The two-pass kernels read x (and dy) once for the sums and again for the outputs; x and
// y together (48 KB for 60 x 100) do not fit in a 32 KiB L1, so both reads come from L2. Here a
// column tile of every row is summed, its channels' coefficients computed, and its outputs
// written at once, while the tile is in L1: x (and dy) are read from L2 once. See vector_ops.hpp
// for how the headers are compiled.
#pragma once

#include <cstdint>

#include "bnorm/layout.hpp"
#include "bnorm/moments.hpp"
#include "kernels/cpu/channel_math.hpp"
#include "kernels/cpu/column_sums.hpp"
#include "kernels/cpu/row_scratch.hpp"
#include "kernels/cpu/scratch.hpp"
#include "kernels/cpu/tuning.hpp"
#include "kernels/cpu/vector_ops.hpp"

namespace bnorm::kernels::BNORM_CPU_NS {
namespace {

// Cache lines a tile of nv vectors covers in one row at most, when unaligned (two vectors: 2 for
// 16- and 32-byte vectors, 3 for 64-byte ones; one vector: 2): what a tile's footprint counts per
// row and tensor.
constexpr int64_t tile_lines(int64_t nv) {
  return (nv * kVectorBytes - 1) / tuning::kLineBytes + 2;
}

// Vectors per column tile when the row-major kernels go tile by tile, else 0: one work item (no
// threads), at least a vector of channels, `tensors` tensors (x, y; x, dy, dx) larger than L1
// together, and a tile of every row of them within tuning::kL1TileQuarters of L1: two vectors where
// those fit, else one where that takes fewer lines (64-byte vectors: 2 lines a row instead of 3).
// Where the tensors fit in L1, the two passes read from L1 and the tiles would only add a short
// statistics loop per tile; that test stays at kL1Bytes, the budget alone was measured against
// a larger L1.
template <typename T>
int l1_tile_vectors(const Extents& e, int64_t tensors) {
  const int64_t rows = e.n * e.s;
  if (e.numel() > tuning::kItemElems || e.c < kLanes<T> ||
      e.numel() * tensors * static_cast<int64_t>(sizeof(T)) <= tuning::kL1Bytes) {
    return 0;
  }
  const int64_t budget = l1_tile_budget_bytes();
  const auto fits = [&](int64_t nv) {
    return rows * tensors * tile_lines(nv) * tuning::kLineBytes <= budget;
  };
  return fits(2) ? 2 : tile_lines(1) < tile_lines(2) && fits(1) ? 1 : 0;
}

// f<NV>(c, fresh) for each column tile of a row of `cols` columns, in the order of column_sums'
// tiles: NV vectors starting at column c (2 while two whole vectors remain and `vectors` is 2,
// else 1), then, when cols % L != 0, the vector that ends at the row's end (NV = 1), of which the
// columns from `fresh` on are new.
template <typename T, typename F>
void for_each_tile(int64_t cols, int vectors, const F& f) {
  constexpr int64_t L = kLanes<T>;
  const int64_t full = cols / L * L;
  int64_t c = 0;
  for (; vectors == 2 && c + 2 * L <= full; c += 2 * L) f.template operator()<2>(c, c);
  for (; c < full; c += L) f.template operator()<1>(c, c);
  if (full < cols) f.template operator()<1>(cols - L, full);
}

// s.sum1, s.sum2 [fresh, c + NV * L) = the column sums of column_tile_sums over every row of the
// tile of NV vectors at column c; k holds the tile's own columns.
template <typename T, bool kGrad, bool kRelu, int NV>
void tile_sums(const T* x, const T* dy, int64_t rows, int64_t cols, int64_t c, int64_t fresh,
               Columns<T> k, RowScratch<T>& s) {
  constexpr int64_t L = kLanes<T>;
  double t1[NV * L] = {}, t2[NV * L] = {};
  column_tile_sums<T, kGrad, kRelu, NV>(x + c, kGrad ? dy + c : nullptr, cols, 0, rows, k, t1, t2);
  for (int64_t j = fresh; j < c + NV * L; ++j) s.sum1[j] = t1[j - c], s.sum2[j] = t2[j - c];
}

template <typename T, bool kRelu>
void forward_train_tiles(const T* x, const Extents& e, int tile_vectors, const double* gamma,
                         const double* beta, double eps, T* y, Moments* moments, double* invstd) {
  using V = typename Simd<T>::V;
  constexpr int64_t L = kLanes<T>;
  const int64_t rows = e.n * e.s, cols = e.c;
  RowScratch<T> s(cols, 0);
  const compute_t<T>* pilot = pilot_row(x, s, cols);
  const auto statistics = [&]<int NV>(int64_t c, int64_t fresh) {
    // Row 0 is the pilot, as in the two-pass kernels.
    tile_sums<T, false, false, NV>(x, nullptr, rows, cols, c, fresh, {pilot + c, nullptr, nullptr},
                                   s);
    finish_statistics(s, pilot, rows, gamma, beta, eps, fresh, c + NV * L, moments, invstd);
  };
  // Columns before `fresh` are written again with the values they already have (x != y).
  const auto normalize = [&]<int NV>(int64_t c, int64_t) {
    V cv[NV], sv[NV], bv[NV];
    for (int j = 0; j < NV; ++j) {
      cv[j] = load<V>(s.center + c + j * L);
      sv[j] = load<V>(s.scale + c + j * L);
      bv[j] = load<V>(s.bias + c + j * L);
    }
    for (int64_t r = 0; r < rows; ++r) {
      for (int j = 0; j < NV; ++j) {
        const int64_t at = r * cols + c + j * L;
        store(y + at, normalized<kRelu>(load<V>(x + at), cv[j], sv[j], bv[j]));
      }
    }
  };
  for_each_tile<T>(cols, tile_vectors, [&]<int NV>(int64_t c, int64_t fresh) {
    statistics.template operator()<NV>(c, fresh);
    normalize.template operator()<NV>(c, fresh);
  });
}

template <typename T, bool kRelu>
void backward_tiles(const T* x, const T* dy, const Extents& e, int tile_vectors, const double* mean,
                    const double* invstd, const double* gamma, const double* beta,
                    bool through_stats, T* dx, double* dgamma, double* dbeta) {
  using V = typename Simd<T>::V;
  constexpr int64_t L = kLanes<T>;
  const int64_t rows = e.n * e.s, cols = e.c;
  RowScratch<T> s(cols, 0);
  set_affine(s, cols, mean, invstd, gamma, beta);
  const auto gradient = [&]<int NV>(int64_t c, int64_t fresh) {
    tile_sums<T, true, kRelu, NV>(x, dy, rows, cols, c, fresh,
                                  {s.center + c, s.scale + c, s.bias + c}, s);
    finish_gradient(s, rows, mean, invstd, gamma, through_stats, fresh, c + NV * L, dgamma, dbeta);
  };
  // In place (dx == dy), the last tile's columns before `fresh` already hold dx: only its new
  // columns are written, one by one. (Its sums read that dx there, but only its new columns'
  // sums are kept.)
  const auto write_dx = [&]<int NV>(int64_t c, int64_t fresh) {
    if (fresh != c && dx == dy) {
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t j = fresh; j < c + NV * L; ++j) {
          const int64_t at = r * cols + j;
          const auto u = value(x[at]) - s.center[j];
          const auto g = masked_dy<kRelu>(u, value(dy[at]), s.scale[j], s.bias[j]);
          dx[at] = stored<T>(dx_value(u, g, s.a[j], s.b[j], s.c0[j]));
        }
      }
      return;
    }
    V cv[NV], sv[NV] = {}, bv[NV] = {}, av[NV], b_v[NV], c0v[NV];
    for (int j = 0; j < NV; ++j) {
      const int64_t k = c + j * L;
      cv[j] = load<V>(s.center + k), av[j] = load<V>(s.a + k), b_v[j] = load<V>(s.b + k);
      c0v[j] = load<V>(s.c0 + k);
      if constexpr (kRelu) sv[j] = load<V>(s.scale + k), bv[j] = load<V>(s.bias + k);
    }
    for (int64_t r = 0; r < rows; ++r) {
      for (int j = 0; j < NV; ++j) {
        const int64_t at = r * cols + c + j * L;
        const V u = load<V>(x + at) - cv[j];
        const V g = masked_dy<kRelu>(u, load<V>(dy + at), sv[j], bv[j]);
        store(dx + at, dx_value(u, g, av[j], b_v[j], c0v[j]));
      }
    }
  };
  for_each_tile<T>(cols, tile_vectors, [&]<int NV>(int64_t c, int64_t fresh) {
    gradient.template operator()<NV>(c, fresh);
    if (dx != nullptr) write_dx.template operator()<NV>(c, fresh);
  });
}

}  // namespace
}  // namespace bnorm::kernels::BNORM_CPU_NS
