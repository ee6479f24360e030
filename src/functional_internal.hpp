// The functional forwards after the checks that the BatchNorm module makes itself (extents_of and
// the sizes of x and y, with its own messages): the module calls these so that every argument is
// checked once. They check everything else (overlap, per-channel arrays, eps, var) as the public
// functions do, with the same messages. Per-channel arrays are parameter_t<T> (float for
// bfloat16 data), so one template serves every element type.
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
void forward_train_sized(std::span<const T> x, const Extents& e,
                         std::span<const parameter_t<T>> gamma,
                         std::span<const parameter_t<T>> beta, double eps, std::span<T> y,
                         std::span<Moments> batch_moments, Backend backend, Activation activation,
                         std::span<double> save_invstd);

// batch_norm_forward_infer for x, y of e.numel() elements.
template <typename T>
void forward_infer_sized(std::span<const T> x, const Extents& e,
                         std::span<const parameter_t<T>> mean, std::span<const parameter_t<T>> var,
                         std::span<const parameter_t<T>> gamma,
                         std::span<const parameter_t<T>> beta, double eps, std::span<T> y,
                         Backend backend, Activation activation);

// batch_norm_backward, every check included (the module has none of its own for it).
template <typename T>
void backward_checked(std::span<const T> x, std::span<const T> dy, const TensorDesc& desc,
                      std::span<const double> mean, std::span<const double> invstd,
                      std::span<const parameter_t<T>> gamma, StatsGradient stats_gradient,
                      std::span<T> dx, std::span<parameter_t<T>> dgamma,
                      std::span<parameter_t<T>> dbeta, Backend backend, Activation activation,
                      std::span<const parameter_t<T>> beta);

}  // namespace bnorm::detail
