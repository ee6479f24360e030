// Optimized kernels for row-major [M, C] data: N x C (M = N), channels-last (M = N * spatial) and
// channels-first with S = 1. Vectors run along the channels of a row. Work items are runs of rows
// fixed by the shape; each writes per-channel partial sums that merge in item order, so any number
// of threads gives the same bits. Statistics need every row before any row can be normalized, so
// x is read twice; the second read comes from cache when the tensor fits there, and otherwise
// starts with the rows its thread read last (each thread's items run backwards the second time).
// Problems of one work item that exceed L1 but whose column tiles fit go tile by tile instead
// (row_major_l1_tiles.hpp). See vector_ops.hpp for how the headers are compiled.
#pragma once

#include <cstdint>

#include "bnorm/layout.hpp"
#include "bnorm/moments.hpp"
#include "kernels/cpu/column_sums.hpp"
#include "kernels/cpu/parallel_loops.hpp"
#include "kernels/cpu/row_loops.hpp"
#include "kernels/cpu/row_major_l1_tiles.hpp"
#include "kernels/cpu/row_scratch.hpp"
#include "kernels/cpu/streaming_stores.hpp"

namespace bnorm::kernels::BNORM_CPU_NS {
namespace {

template <typename T, bool kRelu>
void forward_train_rows(const T* x, const Extents& e, const double* gamma, const double* beta,
                        double eps, T* y, Moments* moments, double* invstd) {
  if (const int tile_vectors = l1_tile_vectors<T>(e, 2); tile_vectors > 0) {
    forward_train_tiles<T, kRelu>(x, e, tile_vectors, gamma, beta, eps, y, moments, invstd);
    return;
  }
  const RowItems items(e);
  const bool parallel = use_threads(e);
  const bool stream = stream_output(e, sizeof(T));
  RowScratch<T> s(e.c, items.count);
  // Row 0 is the pilot: every item shifts channel c by x[0, c].
  const compute_t<T>* pilot = pilot_row(x, s, e.c);
  for_each_item_by_thread(items.count, parallel, false, [&](int64_t i) {
    column_sums<T, false, false>(x, nullptr, e.c, items.first(i), items.last(i),
                                 {pilot, nullptr, nullptr}, s.part1 + i * e.c, s.part2 + i * e.c,
                                 sum_order(e, 1, sizeof(T)));
  });
  s.merge(e.c, items.count);
  finish_statistics(s, pilot, items.rows, gamma, beta, eps, 0, e.c, moments, invstd);
  s.wrap(e.c, false);
  if (stream) align_for_streaming(s, y, e.c, false);
  for_each_item_by_thread(items.count, parallel, true, [&](int64_t i) {
    normalize_row_range<T, kRelu>(x, y, e.c, items.first(i), items.last(i), s, stream,
                                  pair_rows(e, 2));
  });
}

template <typename T, bool kRelu>
void forward_infer_rows(const T* x, const Extents& e, const double* mean, const double* invstd,
                        const double* gamma, const double* beta, T* y) {
  const RowItems items(e, 1);
  const bool stream = stream_output(e, sizeof(T));
  RowScratch<T> s(e.c, 0);
  set_affine(s, e.c, mean, invstd, gamma, beta);
  s.wrap(e.c, false);
  if (stream) align_for_streaming(s, y, e.c, false);
  for_each_item(items.count, use_threads(e), [&](int64_t i) {
    normalize_row_range<T, kRelu>(x, y, e.c, items.first(i), items.last(i), s, stream,
                                  pair_rows(e, 2));
  });
}

template <typename T, bool kRelu>
void backward_rows(const T* x, const T* dy, const Extents& e, const double* mean,
                   const double* invstd, const double* gamma, const double* beta,
                   bool through_stats, T* dx, double* dgamma, double* dbeta) {
  if (const int tile_vectors = l1_tile_vectors<T>(e, 3); tile_vectors > 0) {
    backward_tiles<T, kRelu>(x, dy, e, tile_vectors, mean, invstd, gamma, beta, through_stats, dx,
                             dgamma, dbeta);
    return;
  }
  const RowItems items(e);
  const bool parallel = use_threads(e);
  const bool stream = stream_output(e, sizeof(T));
  RowScratch<T> s(e.c, items.count);
  set_affine(s, e.c, mean, invstd, gamma, beta);
  const Columns<T> columns{s.center, s.scale, s.bias};
  for_each_item_by_thread(items.count, parallel, false, [&](int64_t i) {
    column_sums<T, true, kRelu>(x, dy, e.c, items.first(i), items.last(i), columns,
                                s.part1 + i * e.c, s.part2 + i * e.c, sum_order(e, 2, sizeof(T)));
  });
  s.merge(e.c, items.count);
  finish_gradient(s, items.rows, mean, invstd, gamma, through_stats, 0, e.c, dgamma, dbeta);
  if (dx == nullptr) return;
  s.wrap(e.c, true);
  if (stream) align_for_streaming(s, dx, e.c, true);
  for_each_item_by_thread(items.count, parallel, true, [&](int64_t i) {
    dx_row_range<T, kRelu>(x, dy, dx, e.c, items.first(i), items.last(i), s, stream,
                           pair_rows(e, 3));
  });
}

}  // namespace
}  // namespace bnorm::kernels::BNORM_CPU_NS
