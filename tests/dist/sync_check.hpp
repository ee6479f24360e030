// The equivalence check behind every synchronized-BatchNorm test, threads or MPI: K ranks, each
// with its shard of a global batch, against one BatchNorm on the concatenated batch.
#pragma once

#include <bnorm/communicator.hpp>
#include <bnorm/functional.hpp>
#include <bnorm/layout.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bnorm::test {

struct SyncCase {
  std::string name;
  Layout layout = Layout::kChannelsFirst;
  int64_t channels = 3;
  std::vector<int64_t> spatial;  // dims[2..]
  std::vector<int64_t> shards;   // N of each rank; shards.size() == K
  bool affine = true;
  std::optional<double> momentum = 0.1;
  Activation activation = Activation::kNone;
};

// The cases the tests run for K ranks: NC, NCHW and NHWC, uneven shards, a rank with no samples,
// a rank with one value per channel, affine off with a cumulative average, a fused ReLU.
std::vector<SyncCase> sync_cases(int k);

// Runs three training steps (forward, backward) of SyncBatchNorm<T> on this rank's shard and of
// BatchNorm<T> on the whole batch, and compares this rank's y and dx, the running statistics and
// the sum over ranks of grad_gamma / grad_beta, with |a - r| <= tol * (1 + |r|), tol 1e-12 for
// double and 1e-5 for float. Returns "" when all match, else the first mismatch. Collective: every
// rank of comm must call it with the same case.
template <typename T>
std::string check_sync_equivalence(Communicator& comm, const SyncCase& c, uint64_t seed);

}  // namespace bnorm::test
