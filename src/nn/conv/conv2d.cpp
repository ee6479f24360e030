// Convolution through im2col + SGEMM: one GEMM per pass for each block of images (by default one
// block, the whole batch).
#include "nn/conv/conv2d.hpp"

#include <cblas.h>

#include <algorithm>
#include <string>
#include <vector>

#include "bnorm/error.hpp"

namespace bnorm::nn {
namespace {

// Images [first, first + count) of the batch: the images one block lowers and multiplies.
struct Block {
  int64_t first = 0, count = 0;
};

Block block_of(const Conv2dShape& s, int64_t b) {
  const int64_t blocks = s.blocks();
  const int64_t first = s.n * b / blocks, end = s.n * (b + 1) / blocks;
  return {.first = first, .count = end - first};
}

// col [C*kh*kw, count*OH*OW] of one block: row (c, i, j), column (n - first, oy, ox) holds
// x[n, c, oy*stride+i-pad, ox*stride+j-pad], zero outside the image.
void im2col(const Conv2dShape& s, const float* x, Block block, float* col) {
  const int64_t oh = s.out_h(), ow = s.out_w(), cols = block.count * oh * ow;
  for (int64_t c = 0; c < s.c; ++c)
    for (int64_t i = 0; i < s.kh; ++i)
      for (int64_t j = 0; j < s.kw; ++j) {
        float* row = col + ((c * s.kh + i) * s.kw + j) * cols;
        for (int64_t n = 0; n < block.count; ++n) {
          const float* plane = x + ((block.first + n) * s.c + c) * s.h * s.w;
          for (int64_t oy = 0; oy < oh; ++oy) {
            const int64_t iy = oy * s.stride + i - s.pad;
            float* out = row + (n * oh + oy) * ow;
            if (iy < 0 || iy >= s.h) {
              std::fill(out, out + ow, 0.0f);
              continue;
            }
            for (int64_t ox = 0; ox < ow; ++ox) {
              const int64_t ix = ox * s.stride + j - s.pad;
              out[ox] = (ix >= 0 && ix < s.w) ? plane[iy * s.w + ix] : 0.0f;
            }
          }
        }
      }
}

// The adjoint of im2col: adds every column entry of the block back onto the input position it
// came from. Writes only the block's images of dx.
void col2im(const Conv2dShape& s, const float* col, Block block, float* dx) {
  const int64_t oh = s.out_h(), ow = s.out_w(), cols = block.count * oh * ow;
  const int64_t image = s.c * s.h * s.w;
  std::fill(dx + block.first * image, dx + (block.first + block.count) * image, 0.0f);
  for (int64_t c = 0; c < s.c; ++c)
    for (int64_t i = 0; i < s.kh; ++i)
      for (int64_t j = 0; j < s.kw; ++j) {
        const float* row = col + ((c * s.kh + i) * s.kw + j) * cols;
        for (int64_t n = 0; n < block.count; ++n) {
          float* plane = dx + ((block.first + n) * s.c + c) * s.h * s.w;
          for (int64_t oy = 0; oy < oh; ++oy) {
            const int64_t iy = oy * s.stride + i - s.pad;
            if (iy < 0 || iy >= s.h) continue;
            const float* in = row + (n * oh + oy) * ow;
            for (int64_t ox = 0; ox < ow; ++ox) {
              const int64_t ix = ox * s.stride + j - s.pad;
              if (ix >= 0 && ix < s.w) plane[iy * s.w + ix] += in[ox];
            }
          }
        }
      }
}

// While alive, OpenBLAS runs single-threaded: the blocks are the parallelism. Letting each block's
// GEMM also fork OpenBLAS's own pool would put more busy threads than cores on the machine, and
// OpenBLAS's workers spin and sched_yield while they wait for each other.
class SingleThreadedBlas {
 public:
  SingleThreadedBlas() : saved_(openblas_get_num_threads()) {
    if (saved_ != 1) openblas_set_num_threads(1);
  }
  ~SingleThreadedBlas() {
    if (saved_ != 1) openblas_set_num_threads(saved_);
  }
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  int saved_;
};

// body(b) for every block b: inline for one block (OpenBLAS threads the GEMM as configured), else
// the blocks on OpenMP threads with single-threaded GEMMs, handed out one at a time so that on a
// busy machine a thread that got the core sooner takes the next block. body must not throw.
template <class Body>
void for_each_block(const Conv2dShape& s, const Body& body) {
  const int64_t blocks = s.blocks();
  if (blocks == 1) {
    body(0);
    return;
  }
  const SingleThreadedBlas single;
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t b = 0; b < blocks; ++b) body(b);
}

// Per-thread scratch of K * N*OH*OW floats, grown to the largest batch seen and then reused, so a
// training step allocates nothing once the first batch has been seen.
std::vector<float>& scratch_kn(int64_t size) {
  thread_local std::vector<float> buffer;
  if (static_cast<int64_t>(buffer.size()) < size) buffer.resize(static_cast<size_t>(size));
  return buffer;
}

void check_size(size_t got, int64_t expected, const char* name) {
  if (static_cast<int64_t>(got) != expected) {
    throw Error(std::string("[conv2d] expected ") + name + " to hold " + std::to_string(expected) +
                " elements, got " + std::to_string(got));
  }
}

}  // namespace

void check_conv2d_shape(const Conv2dShape& s) {
  const bool positive = s.n > 0 && s.c > 0 && s.h > 0 && s.w > 0 && s.k > 0 && s.kh > 0 &&
                        s.kw > 0 && s.stride > 0 && s.pad >= 0;
  if (!positive || s.h + 2 * s.pad < s.kh || s.w + 2 * s.pad < s.kw) {
    throw Error("[conv2d] expected positive extents and a " + std::to_string(s.kh) + "x" +
                std::to_string(s.kw) + " kernel that fits the padded " + std::to_string(s.h) + "x" +
                std::to_string(s.w) + " input (pad " + std::to_string(s.pad) +
                "), got n=" + std::to_string(s.n) + " c=" + std::to_string(s.c) +
                " k=" + std::to_string(s.k) + " stride=" + std::to_string(s.stride));
  }
}

void conv2d_forward(const Conv2dShape& s, std::span<const float> x, std::span<const float> weight,
                    std::span<const float> bias, std::span<float> y, std::span<float> col) {
  check_conv2d_shape(s);
  const int64_t ohw = s.out_h() * s.out_w(), rows = s.col_rows(), cols = s.col_cols();
  check_size(x.size(), s.n * s.c * s.h * s.w, "x");
  check_size(weight.size(), s.k * rows, "weight");
  if (!bias.empty()) check_size(bias.size(), s.k, "bias");
  check_size(y.size(), s.n * s.k * ohw, "y");
  check_size(col.size(), rows * cols, "col");
  // Per block, yk [K, count*OH*OW] = W [K, rows] * col [rows, count*OH*OW], then a scatter into
  // y [N, K, OH*OW]: a few large GEMMs instead of one small GEMM per sample, whose per-call
  // threading overhead dominated at 2 threads.
  for_each_block(s, [&](int64_t b) {
    const Block block = block_of(s, b);
    const int64_t cols_b = block.count * ohw;
    float* col_b = col.data() + rows * block.first * ohw;
    im2col(s, x.data(), block, col_b);
    std::vector<float>& yk = scratch_kn(s.k * cols_b);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(s.k),
                static_cast<int>(cols_b), static_cast<int>(rows), 1.0f, weight.data(),
                static_cast<int>(rows), col_b, static_cast<int>(cols_b), 0.0f, yk.data(),
                static_cast<int>(cols_b));
    for (int64_t n = 0; n < block.count; ++n)
      for (int64_t k = 0; k < s.k; ++k) {
        const float* from = yk.data() + k * cols_b + n * ohw;
        float* to = y.data() + ((block.first + n) * s.k + k) * ohw;
        const float bk = bias.empty() ? 0.0f : bias[k];
        for (int64_t p = 0; p < ohw; ++p) to[p] = from[p] + bk;
      }
  });
}

void conv2d_backward(const Conv2dShape& s, std::span<const float> dy, std::span<const float> weight,
                     std::span<const float> col, std::span<float> dx, std::span<float> dweight,
                     std::span<float> dbias, std::span<float> dcol) {
  check_conv2d_shape(s);
  const int64_t ohw = s.out_h() * s.out_w(), rows = s.col_rows(), cols = s.col_cols();
  check_size(dy.size(), s.n * s.k * ohw, "dy");
  check_size(weight.size(), s.k * rows, "weight");
  check_size(col.size(), rows * cols, "col");
  check_size(dweight.size(), s.k * rows, "dweight");
  if (!dbias.empty()) check_size(dbias.size(), s.k, "dbias");
  if (!dx.empty()) {
    check_size(dx.size(), s.n * s.c * s.h * s.w, "dx");
    check_size(dcol.size(), rows * cols, "dcol");
  }
  // Per block, dyk [K, count*OH*OW]: dy with the block's images moved inside each channel's row,
  // so that
  //   dweight [K, rows] += dyk * col^T,  dbias [K] += row sums of dyk,  dcol = W^T * dyk
  // are each one GEMM (or one pass). With several blocks, each writes its dweight and dbias into
  // its own slot of `partial`, summed below in block order: deterministic whatever ran the blocks.
  const int64_t blocks = s.blocks(), slot = s.k * rows + s.k;
  thread_local std::vector<float> partial;  // [blocks, K*rows + K]
  if (blocks > 1 && static_cast<int64_t>(partial.size()) < blocks * slot)
    partial.resize(static_cast<size_t>(blocks * slot));
  float* const partial_of_caller = partial.data();  // `partial` would name each thread's own copy
  for_each_block(s, [&](int64_t b) {
    const Block block = block_of(s, b);
    const int64_t cols_b = block.count * ohw;
    const float* col_b = col.data() + rows * block.first * ohw;
    std::vector<float>& dyk = scratch_kn(s.k * cols_b);
    for (int64_t n = 0; n < block.count; ++n)
      for (int64_t k = 0; k < s.k; ++k) {
        const float* from = dy.data() + ((block.first + n) * s.k + k) * ohw;
        std::copy(from, from + ohw, dyk.data() + k * cols_b + n * ohw);
      }
    float* dw = blocks == 1 ? dweight.data() : partial_of_caller + b * slot;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(s.k),
                static_cast<int>(rows), static_cast<int>(cols_b), 1.0f, dyk.data(),
                static_cast<int>(cols_b), col_b, static_cast<int>(cols_b),
                blocks == 1 ? 1.0f : 0.0f, dw, static_cast<int>(rows));
    if (!dbias.empty()) {
      float* db = blocks == 1 ? dbias.data() : partial_of_caller + b * slot + s.k * rows;
      for (int64_t k = 0; k < s.k; ++k) {
        float acc = 0.0f;
        for (int64_t p = 0; p < cols_b; ++p) acc += dyk[static_cast<size_t>(k * cols_b + p)];
        db[k] = blocks == 1 ? db[k] + acc : acc;
      }
    }
    if (!dx.empty()) {
      float* dcol_b = dcol.data() + rows * block.first * ohw;
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<int>(rows),
                  static_cast<int>(cols_b), static_cast<int>(s.k), 1.0f, weight.data(),
                  static_cast<int>(rows), dyk.data(), static_cast<int>(cols_b), 0.0f, dcol_b,
                  static_cast<int>(cols_b));
      col2im(s, dcol_b, block, dx.data());
    }
  });
  if (blocks == 1) return;
  for (int64_t b = 0; b < blocks; ++b) {
    const float* from = partial_of_caller + b * slot;
    for (int64_t i = 0; i < s.k * rows; ++i) dweight[i] += from[i];
    if (!dbias.empty())
      for (int64_t k = 0; k < s.k; ++k) dbias[k] += from[s.k * rows + k];
  }
}

void conv2d_forward_direct(const Conv2dShape& s, std::span<const double> x,
                           std::span<const double> weight, std::span<const double> bias,
                           std::span<double> y) {
  const int64_t oh = s.out_h(), ow = s.out_w();
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t k = 0; k < s.k; ++k)
      for (int64_t oy = 0; oy < oh; ++oy)
        for (int64_t ox = 0; ox < ow; ++ox) {
          double acc = bias.empty() ? 0.0 : bias[k];
          for (int64_t c = 0; c < s.c; ++c)
            for (int64_t i = 0; i < s.kh; ++i)
              for (int64_t j = 0; j < s.kw; ++j) {
                const int64_t iy = oy * s.stride + i - s.pad, ix = ox * s.stride + j - s.pad;
                if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
                acc += x[((n * s.c + c) * s.h + iy) * s.w + ix] *
                       weight[((k * s.c + c) * s.kh + i) * s.kw + j];
              }
          y[((n * s.k + k) * oh + oy) * ow + ox] = acc;
        }
}

}  // namespace bnorm::nn
