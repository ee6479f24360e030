// Non-temporal (streaming) stores for one ISA build: when outputs take them, the one store
// instruction, the fence, and write_streaming, which writes a span with them on whole cache lines
// only. See vector_ops.hpp for how the kernels/cpu headers are compiled.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "bnorm/layout.hpp"
#include "kernels/cpu/scratch.hpp"
#include "kernels/cpu/tuning.hpp"
#include "kernels/cpu/vector_ops.hpp"

namespace bnorm::kernels::BNORM_CPU_NS {
namespace {

// Whether a kernel writes its outputs with non-temporal stores (tuning::kStreamOutputBytes, or
// BNORM_STREAM_MIN_BYTES when set).
inline bool stream_output(const Extents& e, int64_t element_bytes) {
  return e.numel() * element_bytes > stream_min_bytes(tuning::kStreamOutputBytes);
}

// Non-temporal store of one vector to p, which must be aligned to kVectorBytes.
template <typename T, typename V>
inline void store_stream(T* p, V v) {
#if BNORM_CPU_VECTOR_BYTES == 64 && defined(__AVX512F__)
  if constexpr (sizeof(T) == 4) _mm512_stream_ps(p, (__m512)v);
  if constexpr (sizeof(T) == 8) _mm512_stream_pd(p, (__m512d)v);
#elif BNORM_CPU_VECTOR_BYTES == 32 && defined(__AVX__)
  if constexpr (sizeof(T) == 4) _mm256_stream_ps(p, (__m256)v);
  if constexpr (sizeof(T) == 8) _mm256_stream_pd(p, (__m256d)v);
#else
  // SSE (every x86-64; also the 16-lane logic the tests compile for baseline): 16-byte pieces,
  // each aligned since p is.
  for (size_t k = 0; k < sizeof v; k += 16) {
    __m128 piece;
    std::memcpy(&piece, reinterpret_cast<const char*>(&v) + k, 16);
    _mm_stream_ps(reinterpret_cast<float*>(reinterpret_cast<char*>(p) + k), piece);
  }
#endif
}

// bfloat16: the vector rounded to half a vector of bfloat16 (aligned as p is), stored in 32-, 16-
// or 8-byte non-temporal pieces.
template <typename V>
inline void store_stream(bfloat16* p, V v) {
  const Bf16Vector h = to_bf16(v);
  char* out = reinterpret_cast<char*>(p);
#if BNORM_CPU_VECTOR_BYTES == 64 && defined(__AVX512F__)
  _mm256_stream_si256(reinterpret_cast<__m256i*>(out), reinterpret_cast<__m256i>(h));
#else
  if constexpr (sizeof h >= 16) {
    for (size_t k = 0; k < sizeof h; k += 16) {
      __m128i piece;
      std::memcpy(&piece, reinterpret_cast<const char*>(&h) + k, 16);
      _mm_stream_si128(reinterpret_cast<__m128i*>(out + k), piece);
    }
  } else {
    long long piece;
    std::memcpy(&piece, &h, sizeof piece);
    _mm_stream_si64(reinterpret_cast<long long*>(out), piece);
  }
#endif
}

// Non-temporal stores are weakly ordered: a work item that made them ends with this, before
// another thread (or the caller) may read its outputs.
inline void stream_fence() { _mm_sfence(); }

// The whole cache lines of out [from, len): elements [begin, end), empty at len where none.
struct WholeLines {
  int64_t begin, end;
};

template <typename T>
inline WholeLines whole_lines(const T* out, int64_t from, int64_t len) {
  constexpr auto kSize = static_cast<int64_t>(sizeof(T));
  constexpr int64_t kLine = tuning::kLineBytes / kSize;
  const auto to_line =
      static_cast<int64_t>(reinterpret_cast<uintptr_t>(out + from) % tuning::kLineBytes);
  const int64_t begin =
      min64(len, from + (to_line == 0 ? 0 : tuning::kLineBytes - to_line) / kSize);
  return {begin, begin + (len - begin) / kLine * kLine};
}

// Writes out [0, len), a span of rows of `cols` elements that starts at a row's start, in
// increasing order of i, with non-temporal stores on whole cache lines and plain stores everywhere
// else: one(i, k) writes element i (of column k) itself, vec(i, k) returns the vector of elements
// [i, i + L), whose first column is k, for the loop to store. A line that plain stores write in
// part while streaming stores fill the rest is flushed from the write-combining buffer half full
// and written twice; so the partial lines at both ends of the span get plain stores, and a span
// that starts or ends in the middle of a line (a row or strip of an unaligned tensor) never mixes
// the two. The vectors go in runs that end at a row's end, so that the column is a loop counter
// within a run: a column carried from vector to vector is a dependency chain that bounds the loop.
template <typename T, typename One, typename Vec>
inline void write_streaming_rows(T* out, int64_t len, int64_t cols, const One& one,
                                 const Vec& vec) {
  constexpr int64_t L = kLanes<T>;
  int64_t i = 0, k = 0;  // the next element and its column
  const auto elements = [&](int64_t end) {
    for (; i < end; ++i) {
      one(i, k);
      k = k + 1 == cols ? 0 : k + 1;
    }
  };
  // Vectors from i while a whole one fits before end, stored as kStream says.
  const auto vectors = [&]<bool kStream>(int64_t end) {
    while (i + L <= end) {
      const int64_t run = min64(ceil_div(cols - k, L), (end - i) / L);
      for (int64_t v = 0; v < run; ++v) {
        if constexpr (kStream) {
          store_stream(out + i + v * L, vec(i + v * L, k + v * L));
        } else {
          store(out + i + v * L, vec(i + v * L, k + v * L));
        }
      }
      i += run * L;
      // Rows of at least L: k + run * L < 2 * cols. Shorter rows take one vector per run.
      k += cols >= L ? run * L : L % cols;
      if (k >= cols) k -= cols;
    }
  };
  elements(min64(len, elements_to_alignment(out)));
  const WholeLines lines = whole_lines(out, i, len);
  vectors.template operator()<false>(lines.begin);
  if (i == lines.begin) {  // else the span ended before its first whole line
    vectors.template operator()<true>(lines.end);
  }
  vectors.template operator()<false>(len);
  elements(len);
}

// write_streaming_rows for a span without columns (one row): one(i) and vec(i).
template <typename T, typename One, typename Vec>
inline void write_streaming(T* out, int64_t len, const One& one, const Vec& vec) {
  write_streaming_rows(
      out, len, len, [&](int64_t i, int64_t) { one(i); },
      [&](int64_t i, int64_t) { return vec(i); });
}

}  // namespace
}  // namespace bnorm::kernels::BNORM_CPU_NS
