// Entry points shared by the functional calls and the SyncBatchNorm module: the same work, with
// the module's options added to the agreement signature and checked on each rank.
#pragma once

#include <cstdint>
#include <span>

#include "bnorm/batch_norm.hpp"
#include "bnorm/communicator.hpp"
#include "bnorm/functional.hpp"
#include "bnorm/moments.hpp"

namespace bnorm::dist {

// What a module call adds: its options (must agree across ranks, and match the input), its mode,
// and whether the ranks' modules already agreed (options and C, hence every later collective's
// size). Until they have, a forward checks a signature in a collective of its own and sets
// *agreed; after that the signature rides along with the moments, and the backward checks only
// that every rank's input was valid, inside its all-reduce.
struct ModuleCall {
  const BatchNormOptions* options;
  Mode mode;
  bool* agreed;
};

template <typename T>
void forward_train(std::span<const T> x, const TensorDesc& desc, std::span<const T> gamma,
                   std::span<const T> beta, double eps, std::span<T> y, Communicator& comm,
                   std::span<Moments> global_moments, std::span<double> save_mean,
                   std::span<double> save_invstd, Backend backend, Activation activation,
                   const ModuleCall* module);

template <typename T>
void backward(std::span<const T> x, std::span<const T> dy, const TensorDesc& desc,
              std::span<const double> mean, std::span<const double> invstd, int64_t global_count,
              std::span<const T> gamma, Communicator& comm, std::span<T> dx, std::span<T> dgamma,
              std::span<T> dbeta, Backend backend, Activation activation, std::span<const T> beta,
              const ModuleCall* module);

}  // namespace bnorm::dist
