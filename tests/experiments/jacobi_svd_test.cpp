// The Jacobi routines against matrices whose spectra are known by construction: diagonal ones,
// Householder reflections around a chosen diagonal (square and rectangular), a column-scaled
// orthogonal matrix whose tiny singular values must keep full relative precision, rank one, and
// the 2 x 2 closed form; and the agreement of singular values with the eigenvalues of A^T A.
#include "experiments/jacobi_svd.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>

#include "bnorm/error.hpp"

namespace bnorm::experiments {
namespace {

using Matrix = std::vector<double>;  // row-major

// The n x n Householder reflection I - 2 v v^T / v^T v for a random v: orthogonal and symmetric.
Matrix householder(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> unit(0.0, 1.0);
  std::vector<double> v(static_cast<size_t>(n));
  double vv = 0;
  for (double& x : v) {
    x = unit(rng);
    vv += x * x;
  }
  Matrix q(static_cast<size_t>(n * n));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      q[static_cast<size_t>(i * n + j)] =
          (i == j ? 1.0 : 0.0) - 2.0 * v[static_cast<size_t>(i)] * v[static_cast<size_t>(j)] / vv;
  return q;
}

// c [r x k] = a [r x m] * b [m x k].
Matrix matmul(const Matrix& a, const Matrix& b, int64_t r, int64_t m, int64_t k) {
  Matrix c(static_cast<size_t>(r * k), 0.0);
  for (int64_t i = 0; i < r; ++i)
    for (int64_t l = 0; l < m; ++l)
      for (int64_t j = 0; j < k; ++j)
        c[static_cast<size_t>(i * k + j)] +=
            a[static_cast<size_t>(i * m + l)] * b[static_cast<size_t>(l * k + j)];
  return c;
}

Matrix random_matrix(int64_t r, int64_t c, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> unit(0.0, 1.0);
  Matrix a(static_cast<size_t>(r * c));
  for (double& x : a) x = unit(rng);
  return a;
}

void expect_relative(const std::vector<double>& got, std::vector<double> want, double rtol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], rtol * std::abs(want[i])) << "index " << i;
}

TEST(JacobiSvd, DiagonalMatrices) {
  const Matrix d = {3, 0, 0, 0, -5, 0, 0, 0, 0.5};
  expect_relative(singular_values(d, 3, 3), {5, 3, 0.5}, 1e-15);
  expect_relative(symmetric_eigenvalues(d, 3), {-5, 0.5, 3}, 1e-15);
}

// Q1 diag(sigma) Q2 for reflections Q1 (m x m) and Q2 (n x n), with the diagonal padded to m x n.
TEST(JacobiSvd, ReflectionsAroundAKnownDiagonal) {
  for (const auto& [m, n] : std::vector<std::pair<int64_t, int64_t>>{{7, 7}, {9, 5}, {4, 8}}) {
    const int64_t k = std::min(m, n);
    std::vector<double> sigma;
    for (int64_t i = 0; i < k; ++i) sigma.push_back(std::pow(10.0, -3.0 + 4.0 * i / (k - 1)));
    Matrix d(static_cast<size_t>(m * n), 0.0);
    for (int64_t i = 0; i < k; ++i)
      d[static_cast<size_t>(i * n + i)] = sigma[static_cast<size_t>(i)];
    const Matrix a = matmul(matmul(householder(m, 1), d, m, m, n), householder(n, 2), m, n, n);
    std::sort(sigma.begin(), sigma.end(), std::greater<>());
    expect_relative(singular_values(a, m, n), sigma, 1e-9);
  }
}

// A = Q D: the singular values are |d| exactly, and one-sided Jacobi keeps even 1e-12 of the
// largest to full relative precision (E12's saturated sigmoid units scale columns like this).
TEST(JacobiSvd, ScaledColumnsKeepTinySingularValuesRelativelyExact) {
  const int64_t n = 30;
  const Matrix q = householder(n, 3);
  Matrix a = q;
  std::vector<double> d;
  for (int64_t j = 0; j < n; ++j)
    d.push_back(std::pow(10.0, -12.0 * j / (n - 1)) * (j % 2 ? -1 : 1));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) a[static_cast<size_t>(i * n + j)] *= d[static_cast<size_t>(j)];
  std::vector<double> want;
  for (double x : d) want.push_back(std::abs(x));
  std::sort(want.begin(), want.end(), std::greater<>());
  expect_relative(singular_values(a, n, n), want, 1e-12);
}

TEST(JacobiSvd, RankOneAndTwoByTwo) {
  const std::vector<double> u = {1, 2, 2}, v = {3, 4};  // |u| = 3, |v| = 5
  Matrix outer;
  for (double x : u)
    for (double y : v) outer.push_back(x * y);
  const std::vector<double> s = singular_values(outer, 3, 2);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_NEAR(s[0], 15.0, 1e-13);
  EXPECT_LT(s[1], 1e-13);
  // [[a, b], [c, d]]: sigma1 sigma2 = |ad - bc|, sigma1^2 + sigma2^2 = a^2 + b^2 + c^2 + d^2.
  const Matrix m = {2, -1, 0.5, 3};
  const std::vector<double> t = singular_values(m, 2, 2);
  EXPECT_NEAR(t[0] * t[1], 6.5, 1e-13);
  EXPECT_NEAR(t[0] * t[0] + t[1] * t[1], 14.25, 1e-13);
  EXPECT_GE(t[0], t[1]);
}

// Squared singular values of a random 40 x 25 matrix are the eigenvalues of A^T A (two different
// routines), and they sum to the squared Frobenius norm.
TEST(JacobiSvd, SingularValuesSquaredAreEigenvaluesOfTheGram) {
  const int64_t m = 40, n = 25;
  const Matrix a = random_matrix(m, n, 7);
  Matrix at(static_cast<size_t>(n * m));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      at[static_cast<size_t>(j * m + i)] = a[static_cast<size_t>(i * n + j)];
  const std::vector<double> eig = symmetric_eigenvalues(matmul(at, a, n, m, n), n);
  std::vector<double> s = singular_values(a, m, n);
  double frobenius2 = 0, sum2 = 0;
  for (double x : a) frobenius2 += x * x;
  std::vector<double> s2;
  for (double x : s) {
    s2.push_back(x * x);
    sum2 += x * x;
  }
  std::reverse(s2.begin(), s2.end());  // ascending, as the eigenvalues
  expect_relative(eig, s2, 1e-10);
  EXPECT_NEAR(sum2, frobenius2, 1e-10 * frobenius2);
  // The transpose has the same singular values.
  expect_relative(singular_values(at, n, m), s, 1e-12);
}

TEST(JacobiSvd, SymmetricWithNegativeAndZeroEigenvalues) {
  const int64_t n = 6;
  const std::vector<double> lambda = {-4, -1e-3, 0, 0, 2, 7};
  Matrix d(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i)
    d[static_cast<size_t>(i * n + i)] = lambda[static_cast<size_t>(n - 1 - i)];
  const Matrix q = householder(n, 5);  // symmetric and orthogonal: Q^T = Q
  const std::vector<double> e = symmetric_eigenvalues(matmul(matmul(q, d, n, n, n), q, n, n, n), n);
  ASSERT_EQ(e.size(), lambda.size());
  for (size_t i = 0; i < e.size(); ++i) EXPECT_NEAR(e[i], lambda[i], 1e-13) << i;
}

TEST(JacobiSvd, BadInputIsAnError) {
  EXPECT_THROW(singular_values(Matrix(5), 2, 3), Error);
  EXPECT_THROW(singular_values(Matrix{}, 0, 0), Error);
  EXPECT_THROW(singular_values(Matrix{1, NAN, 0, 1}, 2, 2), Error);
  EXPECT_THROW(symmetric_eigenvalues(Matrix{1, 2, 3, 4}, 2), Error);  // not symmetric
  EXPECT_THROW(symmetric_eigenvalues(Matrix(3), 2), Error);
  EXPECT_NO_THROW(singular_values(Matrix(6, 0.0), 2, 3));  // the zero matrix: all zero
}

}  // namespace
}  // namespace bnorm::experiments
