// Jacobi rotations for symmetric eigenvalues and singular values (see jacobi_svd.hpp).
#include "experiments/jacobi_svd.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "bnorm/error.hpp"

namespace bnorm::experiments {
namespace {

constexpr int kMaxSweeps = 100;
constexpr double kEps = std::numeric_limits<double>::epsilon();

void check_size(const char* op, size_t size, int64_t rows, int64_t cols) {
  if (rows < 1 || cols < 1 || size != static_cast<size_t>(rows * cols)) {
    throw Error(std::string("[") + op + "] expected a " + std::to_string(rows) + " x " +
                std::to_string(cols) + " matrix with sizes >= 1, got " + std::to_string(size) +
                " values");
  }
}

// The rotation (c, s) with t = tan(theta) that zeroes the off-diagonal entry g of the symmetric
// 2 x 2 matrix [[a, g], [g, b]]: the smaller root of t^2 + 2 zeta t - 1 = 0, zeta = (b - a) / 2g.
void rotation(double a, double b, double g, double& c, double& s) {
  const double zeta = (b - a) / (2.0 * g);
  const double t = std::copysign(1.0, zeta) / (std::abs(zeta) + std::hypot(1.0, zeta));
  c = 1.0 / std::sqrt(1.0 + t * t);
  s = c * t;
}

}  // namespace

// Cyclic Jacobi: rotate rows and columns p, q until every off-diagonal entry is below
// eps * |diagonal| (or exactly zero); the diagonal is then the spectrum.
std::vector<double> symmetric_eigenvalues(std::span<const double> a_in, int64_t n) {
  check_size("symmetric_eigenvalues", a_in.size(), n, n);
  std::vector<double> a(a_in.begin(), a_in.end());
  const auto N = static_cast<size_t>(n);
  double largest = 0;
  for (double v : a) largest = std::max(largest, std::abs(v));
  for (size_t i = 0; i < N; ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (std::abs(a[i * N + j] - a[j * N + i]) > 1e-12 * largest) {
        throw Error("[symmetric_eigenvalues] expected a symmetric matrix, got a(" +
                    std::to_string(i) + "," + std::to_string(j) +
                    ") = " + std::to_string(a[i * N + j]) + " but a(" + std::to_string(j) + "," +
                    std::to_string(i) + ") = " + std::to_string(a[j * N + i]));
      }
    }
  }
  // Below this an off-diagonal entry is rounding noise whatever the diagonal (zero eigenvalues).
  const double noise_floor = kEps * kEps * largest * static_cast<double>(N);
  for (int sweep = 0; sweep < kMaxSweeps; ++sweep) {
    bool rotated = false;
    for (size_t p = 0; p + 1 < N; ++p) {
      for (size_t q = p + 1; q < N; ++q) {
        const double g = a[p * N + q];
        const double app = a[p * N + p], aqq = a[q * N + q];
        if (std::abs(g) <= std::max(noise_floor, kEps * std::sqrt(std::abs(app * aqq)))) continue;
        rotated = true;
        double c = 0, s = 0;
        rotation(app, aqq, g, c, s);
        for (size_t k = 0; k < N; ++k) {  // columns p, q
          const double kp = a[k * N + p], kq = a[k * N + q];
          a[k * N + p] = c * kp - s * kq;
          a[k * N + q] = s * kp + c * kq;
        }
        for (size_t k = 0; k < N; ++k) {  // rows p, q
          const double pk = a[p * N + k], qk = a[q * N + k];
          a[p * N + k] = c * pk - s * qk;
          a[q * N + k] = s * pk + c * qk;
        }
      }
    }
    if (!rotated) {
      std::vector<double> eig(N);
      for (size_t i = 0; i < N; ++i) eig[i] = a[i * N + i];
      std::sort(eig.begin(), eig.end());
      return eig;
    }
  }
  throw Error("[symmetric_eigenvalues] no convergence after " + std::to_string(kMaxSweeps) +
              " sweeps for a " + std::to_string(n) + " x " + std::to_string(n) + " matrix");
}

// One-sided Jacobi (Hestenes): rotate pairs of columns until every pair is orthogonal to
// eps * (product of their norms); the column norms are then the singular values. Equivalent to
// Jacobi on A^T A, with A^T A never formed.
std::vector<double> singular_values(std::span<const double> a, int64_t rows, int64_t cols) {
  check_size("singular_values", a.size(), rows, cols);
  for (size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a[i])) {
      throw Error("[singular_values] expected finite values, got " + std::to_string(a[i]) +
                  " at index " + std::to_string(i));
    }
  }
  // Columns of A (or of A^T when rows < cols, which has the same singular values), each one
  // contiguous: n vectors of length m, n <= m.
  const bool transpose = rows < cols;
  const auto m = static_cast<size_t>(transpose ? cols : rows);
  const auto n = static_cast<size_t>(transpose ? rows : cols);
  std::vector<double> u(m * n);
  for (size_t r = 0; r < static_cast<size_t>(rows); ++r) {
    for (size_t c = 0; c < static_cast<size_t>(cols); ++c) {
      const double v = a[r * static_cast<size_t>(cols) + c];
      if (transpose) {
        u[r * m + c] = v;
      } else {
        u[c * m + r] = v;
      }
    }
  }
  auto dot = [&](size_t i, size_t j) {
    const double* x = &u[i * m];
    const double* y = &u[j * m];
    double sum = 0;
    for (size_t k = 0; k < m; ++k) sum += x[k] * y[k];
    return sum;
  };
  // Below this a column product is rounding noise whatever the columns (rank deficiency).
  double frobenius2 = 0;
  for (double v : u) frobenius2 += v * v;
  const double noise_floor = kEps * kEps * frobenius2;
  std::vector<double> norm2(n);  // |u_j|^2, recomputed each sweep, updated per rotation
  for (int sweep = 0; sweep < kMaxSweeps; ++sweep) {
    for (size_t j = 0; j < n; ++j) norm2[j] = dot(j, j);
    bool rotated = false;
    for (size_t p = 0; p + 1 < n; ++p) {
      for (size_t q = p + 1; q < n; ++q) {
        const double alpha = norm2[p], beta = norm2[q], gamma = dot(p, q);
        if (std::abs(gamma) <= std::max(noise_floor, kEps * std::sqrt(alpha * beta))) continue;
        rotated = true;
        double c = 0, s = 0;
        rotation(alpha, beta, gamma, c, s);
        double* up = &u[p * m];
        double* uq = &u[q * m];
        for (size_t k = 0; k < m; ++k) {
          const double x = up[k], y = uq[k];
          up[k] = c * x - s * y;
          uq[k] = s * x + c * y;
        }
        // The rotation zeroes gamma and moves t * gamma of squared norm from column p to q.
        const double t = s / c;
        norm2[p] = alpha - t * gamma;
        norm2[q] = beta + t * gamma;
      }
    }
    if (!rotated) {
      std::vector<double> sigma(n);
      for (size_t j = 0; j < n; ++j) sigma[j] = std::sqrt(dot(j, j));
      std::sort(sigma.begin(), sigma.end(), std::greater<>());
      return sigma;
    }
  }
  throw Error("[singular_values] no convergence after " + std::to_string(kMaxSweeps) +
              " sweeps for a " + std::to_string(rows) + " x " + std::to_string(cols) + " matrix");
}

}  // namespace bnorm::experiments
