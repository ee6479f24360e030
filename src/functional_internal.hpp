// The functional forwards after the checks that the BatchNorm module makes itself (extents_of and
// the sizes of x and y, with its own messages): the module calls these so that every argument is
// checked once. They check everything else (overlap, per-channel arrays, eps, var) as the public
// functions do, with the same messages.
#pragma once

#include <span>

#include "bnorm/functional.hpp"
#include "bnorm/layout.hpp"
#include "bnorm/moments.hpp"
#include "kernels/kernels.hpp"

namespace bnorm::detail {

// The first implementation of src/kernels' ordered list that supports e: kAuto takes any, the
// reference last; kOptimized any but the reference (throws when none does); kReference the
// reference alone. What every functional call runs its kernels from.
template <typename T>
const kernels::KernelSet<T>& select_kernels(const Extents& e, Backend backend);

// batch_norm_forward_train for x, y of e.numel() elements.
template <typename T>
void forward_train_sized(std::span<const T> x, const Extents& e, std::span<const T> gamma,
                         std::span<const T> beta, double eps, std::span<T> y,
                         std::span<Moments> batch_moments, Backend backend, Activation activation,
                         std::span<double> save_invstd);

// batch_norm_forward_infer for x, y of e.numel() elements.
template <typename T>
void forward_infer_sized(std::span<const T> x, const Extents& e, std::span<const T> mean,
                         std::span<const T> var, std::span<const T> gamma, std::span<const T> beta,
                         double eps, std::span<T> y, Backend backend, Activation activation);

}  // namespace bnorm::detail
