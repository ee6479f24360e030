// Eigenvalues of symmetric matrices and singular values of small dense matrices by Jacobi
// rotations, in float64: what E12 needs for its 100 x 100 layer Jacobians. The one-sided (Hestenes)
// form used for singular values never forms A^T A, so a column scaled down by 1e-10 (a saturated
// sigmoid unit) still gets its singular value to full relative precision.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace bnorm::experiments {

// Eigenvalues of the symmetric n x n matrix a [n * n, row-major], ascending (cyclic Jacobi).
// Throws bnorm::Error when a.size() != n * n, n < 1, or a is not symmetric
// (|a_ij - a_ji| > 1e-12 * max |a|).
std::vector<double> symmetric_eigenvalues(std::span<const double> a, int64_t n);

// Singular values of the rows x cols matrix a [rows * cols, row-major], descending; min(rows, cols)
// of them (one-sided Jacobi on the columns, or on the rows when rows < cols). Throws bnorm::Error
// when a.size() != rows * cols, a size is < 1, or an element is not finite.
std::vector<double> singular_values(std::span<const double> a, int64_t rows, int64_t cols);

}  // namespace bnorm::experiments
