// The equivalence check of sync_check.hpp.
#include "sync_check.hpp"

#include <bnorm/batch_norm.hpp>
#include <bnorm/sync_batch_norm.hpp>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>
#include <type_traits>

namespace bnorm::test {
namespace {

template <typename T>
std::vector<T> randn(size_t size, uint64_t seed, double mean) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> dist(mean, 1.0);
  std::vector<T> v(size);
  for (T& x : v) x = static_cast<T>(dist(rng));
  return v;
}

// First index where |a - r| > tol * (1 + |r|), as a message; "" when none.
template <typename A, typename R>
std::string compare(std::span<const A> a, std::span<const R> r, double tol, const std::string& what,
                    int rank, uint64_t seed) {
  if (a.size() != r.size()) return what + ": sizes differ";
  for (size_t i = 0; i < r.size(); ++i) {
    const double av = static_cast<double>(a[i]), rv = static_cast<double>(r[i]);
    if (!(std::abs(av - rv) <= tol * (1.0 + std::abs(rv)))) {
      std::ostringstream s;
      s.precision(17);
      s << what << " on rank " << rank << " at " << i << ": synchronized " << av << ", one process "
        << rv << " (tol " << tol << ", seed " << seed << ")";
      return s.str();
    }
  }
  return "";
}

}  // namespace

std::vector<SyncCase> sync_cases(int k) {
  const auto pick = [k](std::vector<int64_t> two, std::vector<int64_t> three) {
    return k == 2 ? two : three;
  };
  std::vector<SyncCase> cases;
  cases.push_back({.name = "nc_uneven_empty_rank",
                   .layout = Layout::kNC,
                   .channels = 5,
                   .shards = pick({3, 6}, {3, 0, 5})});
  cases.push_back({.name = "nc_one_sample_rank",
                   .layout = Layout::kNC,
                   .channels = 4,
                   .shards = pick({1, 4}, {1, 1, 2})});
  cases.push_back({.name = "nchw_uneven",
                   .layout = Layout::kChannelsFirst,
                   .channels = 3,
                   .spatial = {4, 5},
                   .shards = pick({2, 1}, {1, 3, 2})});
  cases.push_back({.name = "nhwc_empty_rank",
                   .layout = Layout::kChannelsLast,
                   .channels = 6,
                   .spatial = {3, 3},
                   .shards = pick({0, 3}, {2, 0, 1})});
  cases.push_back({.name = "nchw_no_affine_cumulative",
                   .layout = Layout::kChannelsFirst,
                   .channels = 2,
                   .spatial = {7},
                   .shards = pick({3, 2}, {2, 2, 1}),
                   .affine = false,
                   .momentum = std::nullopt});
  cases.push_back({.name = "nhwc_relu",
                   .layout = Layout::kChannelsLast,
                   .channels = 33,
                   .spatial = {2, 3},
                   .shards = pick({2, 3}, {3, 1, 0}),
                   .activation = Activation::kRelu});
  return cases;
}

template <typename T>
std::string check_sync_equivalence(Communicator& comm, const SyncCase& c, uint64_t seed) {
  const double tol = std::is_same_v<T, double> ? 1e-12 : 1e-5;
  const int rank = comm.rank();
  int64_t spatial = 1;
  for (int64_t d : c.spatial) spatial *= d;
  const int64_t global_n = std::accumulate(c.shards.begin(), c.shards.end(), int64_t{0});
  int64_t first = 0;  // this rank's first sample: N is outermost in every layout
  for (int r = 0; r < rank; ++r) first += c.shards[static_cast<size_t>(r)];
  const auto per_sample = static_cast<size_t>(c.channels * spatial);
  const auto begin = static_cast<size_t>(first) * per_sample;
  const auto local_size = static_cast<size_t>(c.shards[static_cast<size_t>(rank)]) * per_sample;

  TensorDesc global_desc{{global_n, c.channels}, c.layout};
  global_desc.dims.insert(global_desc.dims.end(), c.spatial.begin(), c.spatial.end());
  TensorDesc local_desc = global_desc;
  local_desc.dims[0] = c.shards[static_cast<size_t>(rank)];

  const BatchNormOptions options{.num_features = c.channels,
                                 .momentum = c.momentum,
                                 .affine = c.affine,
                                 .layout = c.layout,
                                 .activation = c.activation};
  BatchNorm<T> one(options);
  SyncBatchNorm<T> sync(options, comm);
  if (c.affine) {  // gamma, beta away from 1, 0, the same in both
    const auto gamma = randn<T>(static_cast<size_t>(c.channels), seed + 100, 1.0);
    const auto beta = randn<T>(static_cast<size_t>(c.channels), seed + 101, 0.5);
    std::copy(gamma.begin(), gamma.end(), one.gamma().begin());
    std::copy(gamma.begin(), gamma.end(), sync.gamma().begin());
    std::copy(beta.begin(), beta.end(), one.beta().begin());
    std::copy(beta.begin(), beta.end(), sync.beta().begin());
  }
  const size_t global_size = static_cast<size_t>(global_n) * per_sample;
  std::vector<T> y(global_size), dx(global_size);
  const T garbage = std::numeric_limits<T>::quiet_NaN();  // outputs must be overwritten
  std::vector<T> y_local(local_size, garbage), dx_local(local_size, garbage);
  for (int step = 0; step < 3; ++step) {
    // Shifted by +10: a variance formed as E[x^2] - E[x]^2 would lose digits here.
    const auto x = randn<T>(global_size, seed + 2 * step, 10.0);
    const auto dy = randn<T>(global_size, seed + 2 * step + 1, 0.0);
    const std::span<const T> x_local(x.data() + begin, local_size);
    const std::span<const T> dy_local(dy.data() + begin, local_size);
    one.forward(x, global_desc, y, Mode::kTrain);
    one.zero_grad();
    one.backward(x, dy, dx);
    sync.forward(x_local, local_desc, y_local, Mode::kTrain);
    sync.zero_grad();
    sync.backward(x_local, dy_local, dx_local);

    const std::string at = c.name + " step " + std::to_string(step) + ": ";
    std::vector<double> grads(2 * static_cast<size_t>(c.affine ? c.channels : 0));
    for (size_t i = 0; i < grads.size() / 2; ++i) {
      grads[i] = static_cast<double>(sync.grad_gamma()[i]);
      grads[grads.size() / 2 + i] = static_cast<double>(sync.grad_beta()[i]);
    }
    comm.all_reduce_sum(grads);  // each rank holds its own contribution; their sum is the global
    std::vector<double> one_grads;
    for (T g : one.grad_gamma()) one_grads.push_back(static_cast<double>(g));
    for (T g : one.grad_beta()) one_grads.push_back(static_cast<double>(g));
    for (const std::string& failure :
         {compare<T, T>(y_local, std::span<const T>(y.data() + begin, local_size), tol, at + "y",
                        rank, seed),
          compare<T, T>(dx_local, std::span<const T>(dx.data() + begin, local_size), tol, at + "dx",
                        rank, seed),
          compare<T, T>(sync.running_mean(), one.running_mean(), tol, at + "running_mean", rank,
                        seed),
          compare<T, T>(sync.running_var(), one.running_var(), tol, at + "running_var", rank, seed),
          compare<double, double>(grads, one_grads, tol, at + "sum of dgamma, dbeta", rank,
                                  seed)}) {
      if (!failure.empty()) return failure;
    }
    if (sync.num_batches_tracked() != one.num_batches_tracked()) return at + "num_batches_tracked";
  }
  return "";
}

template std::string check_sync_equivalence<float>(Communicator&, const SyncCase&, uint64_t);
template std::string check_sync_equivalence<double>(Communicator&, const SyncCase&, uint64_t);

}  // namespace bnorm::test
