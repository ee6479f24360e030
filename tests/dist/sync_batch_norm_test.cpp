// SyncBatchNorm through the threads communicator: K = 2 and 3 ranks against one BatchNorm on the
// concatenated batch (sync_check.hpp), and what each forward/backward exchanges.
#include <gtest/gtest.h>

#include <bnorm/sync_batch_norm.hpp>
#include <bnorm/thread_communicator.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "counting_communicator.hpp"
#include "sync_check.hpp"

namespace bnorm::test {
namespace {

// (K, case index, float64?)
class SyncEquivalence : public ::testing::TestWithParam<std::tuple<int, size_t, bool>> {};

TEST_P(SyncEquivalence, MatchesOneProcessOnTheConcatenatedBatch) {
  const auto [k, index, is_double] = GetParam();
  const SyncCase c = sync_cases(k).at(index);
  std::vector<std::string> failures(static_cast<size_t>(k));
  const auto errors = run_on_threads(k, [&](Communicator& comm) {
    const uint64_t seed = 1000 + index;
    failures[static_cast<size_t>(comm.rank())] = is_double
                                                     ? check_sync_equivalence<double>(comm, c, seed)
                                                     : check_sync_equivalence<float>(comm, c, seed);
  });
  for (int r = 0; r < k; ++r) {
    EXPECT_EQ(errors[static_cast<size_t>(r)], "") << "rank " << r;
    EXPECT_EQ(failures[static_cast<size_t>(r)], "") << "rank " << r;
  }
}

std::string case_name(const ::testing::TestParamInfo<SyncEquivalence::ParamType>& info) {
  const auto [k, index, is_double] = info.param;
  std::string name = "k";  // appended apart: GCC 12 misreports "k" + string&& (-Wrestrict)
  name += std::to_string(k);
  name += '_';
  name += sync_cases(k).at(index).name;
  name += is_double ? "_f64" : "_f32";
  return name;
}

INSTANTIATE_TEST_SUITE_P(Threads, SyncEquivalence,
                         ::testing::Combine(::testing::Values(2, 3),
                                            ::testing::Range(size_t{0}, sync_cases(2).size()),
                                            ::testing::Bool()),
                         case_name);

// Per BN layer: the first forward checks the signature in an all-gather of its own, then
// all-gathers [signature | 3 * C moments]; every later forward makes only that second call; each
// backward makes one all-reduce of 2 * C sums and 2 validity values; inference exchanges nothing.
TEST(SyncBatchNormTraffic, OneCollectivePerPassAfterTheFirstForward) {
  constexpr int64_t kC = 16;
  const int64_t signature = CountingCommunicator::kSignatureDoubles;
  std::vector<std::vector<CountingCommunicator::Counts>> seen(2);
  const auto errors = run_on_threads(2, [&](Communicator& inner) {
    CountingCommunicator comm(inner);
    SyncBatchNorm<float> bn({.num_features = kC}, comm);
    const TensorDesc desc{{4, kC, 3, 3}, Layout::kChannelsFirst};
    std::vector<float> x(4 * kC * 9), y(x.size()), dx(x.size());
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7);
    auto& counts = seen[static_cast<size_t>(comm.rank())];
    for (int step = 0; step < 2; ++step) {
      bn.forward(x, desc, y, Mode::kTrain);
      counts.push_back(comm.take());
      bn.backward(x, y, dx);
      counts.push_back(comm.take());
    }
    bn.forward(x, desc, y, Mode::kInference);
    bn.backward(x, y, dx);
    counts.push_back(comm.take());
  });
  ASSERT_EQ(errors, std::vector<std::string>(2));
  for (const auto& counts : seen) {
    ASSERT_EQ(counts.size(), 5u);
    EXPECT_EQ(counts[0].all_gathers, 2);  // first forward: signature, then signature + moments
    EXPECT_EQ(counts[0].all_reduces, 0);
    EXPECT_EQ(counts[0].doubles_sent, 2 * signature + 3 * kC);
    for (size_t backward : {1u, 3u}) {
      EXPECT_EQ(counts[backward].all_gathers, 0);
      EXPECT_EQ(counts[backward].all_reduces, 1);
      EXPECT_EQ(counts[backward].doubles_sent, 2 * kC + 2);
    }
    EXPECT_EQ(counts[2].all_gathers, 1);  // later forwards: signature + moments in one call
    EXPECT_EQ(counts[2].all_reduces, 0);
    EXPECT_EQ(counts[2].doubles_sent, signature + 3 * kC);
    EXPECT_EQ(counts[4].all_gathers + counts[4].all_reduces, 0);
  }
}

// The module's one-collective passes give the same bits as the functional calls, which check the
// whole signature in a collective of their own before each pass.
TEST(SyncBatchNorm, ModulePassesMatchTheFunctionalCallsBitForBit) {
  constexpr int64_t kC = 5;
  const auto errors = run_on_threads(3, [&](Communicator& comm) {
    SyncBatchNorm<float> bn({.num_features = kC}, comm);
    const int64_t n = 2 + comm.rank();
    const TensorDesc desc{{n, kC, 7}, Layout::kChannelsFirst};
    const auto size = static_cast<size_t>(n * kC * 7);
    std::vector<float> x(size), dy(size), y(size), dx(size), y_ref(size), dx_ref(size);
    std::vector<float> dgamma(kC), dbeta(kC);
    std::vector<Moments> moments(kC);
    std::vector<double> mean(kC), invstd(kC);
    for (int step = 0; step < 3; ++step) {
      for (size_t i = 0; i < size; ++i) {  // shifted by +10, a different batch each step
        x[i] = 10.0f + static_cast<float>((i * 37 + 11 * step + 5 * comm.rank()) % 23) / 7.0f;
        dy[i] = static_cast<float>((i * 13 + step) % 11) / 5.0f - 1.0f;
      }
      bn.zero_grad();
      bn.forward(x, desc, y, Mode::kTrain);
      bn.backward(x, dy, dx);
      const std::span<const float> gamma = bn.gamma(), beta = bn.beta();
      sync_batch_norm_forward_train<float>(x, desc, gamma, beta, bn.options().eps, y_ref, comm,
                                           moments, mean, invstd);
      sync_batch_norm_backward<float>(x, dy, desc, mean, invstd, moments[0].count, gamma, comm,
                                      dx_ref, dgamma, dbeta);
      for (size_t i = 0; i < size; ++i) {
        ASSERT_EQ(y[i], y_ref[i]) << "step " << step << " y[" << i << "]";
        ASSERT_EQ(dx[i], dx_ref[i]) << "step " << step << " dx[" << i << "]";
      }
      for (size_t c = 0; c < static_cast<size_t>(kC); ++c) {
        ASSERT_EQ(bn.global_moments()[c].mean, moments[c].mean) << "step " << step;
        ASSERT_EQ(bn.global_moments()[c].m2, moments[c].m2) << "step " << step;
        ASSERT_EQ(bn.grad_gamma()[c], dgamma[c]) << "step " << step;
        ASSERT_EQ(bn.grad_beta()[c], dbeta[c]) << "step " << step;
      }
    }
  });
  ASSERT_EQ(errors, std::vector<std::string>(3));
}

// A rank with zero samples still takes part, and the global statistics are those of the others.
TEST(SyncBatchNorm, RankWithoutSamplesGetsTheOthersStatistics) {
  std::vector<std::vector<Moments>> seen(3);
  const auto errors = run_on_threads(3, [&](Communicator& comm) {
    SyncBatchNorm<double> bn({.num_features = 1, .layout = Layout::kNC}, comm);
    const int64_t n = comm.rank() == 1 ? 0 : 2;
    const std::vector<double> x = comm.rank() == 0 ? std::vector<double>{1, 2}
                                  : n == 0         ? std::vector<double>{}
                                                   : std::vector<double>{3, 6};
    std::vector<double> y(x.size());
    bn.forward(x, {{n, 1}, Layout::kNC}, y, Mode::kBatchStats);
    seen[static_cast<size_t>(comm.rank())].assign(bn.global_moments().begin(),
                                                  bn.global_moments().end());
  });
  ASSERT_EQ(errors, std::vector<std::string>(3));
  for (const auto& m : seen) {  // {1, 2, 3, 6}: mean 3, M2 = 4 + 1 + 0 + 9
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].count, 4);
    EXPECT_DOUBLE_EQ(m[0].mean, 3.0);
    EXPECT_DOUBLE_EQ(m[0].m2, 14.0);
  }
}

}  // namespace
}  // namespace bnorm::test
