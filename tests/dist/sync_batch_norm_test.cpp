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
  return "k" + std::to_string(k) + "_" + sync_cases(k).at(index).name +
         (is_double ? "_f64" : "_f32");
}

INSTANTIATE_TEST_SUITE_P(Threads, SyncEquivalence,
                         ::testing::Combine(::testing::Values(2, 3),
                                            ::testing::Range(size_t{0}, sync_cases(2).size()),
                                            ::testing::Bool()),
                         case_name);

// Per step and BN layer: forward = signature + one all-gather of 3 * C doubles per rank, backward
// = signature + one all-reduce of 2 * C doubles; inference exchanges nothing.
TEST(SyncBatchNormTraffic, TwoCollectivesPerPassAndTwoCSumsInBackward) {
  constexpr int64_t kC = 16;
  std::vector<CountingCommunicator::Counts> forward(2), backward(2), inference(2);
  const auto errors = run_on_threads(2, [&](Communicator& inner) {
    CountingCommunicator comm(inner);
    SyncBatchNorm<float> bn({.num_features = kC}, comm);
    const TensorDesc desc{{4, kC, 3, 3}, Layout::kChannelsFirst};
    std::vector<float> x(4 * kC * 9), y(x.size()), dx(x.size());
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7);
    const auto r = static_cast<size_t>(comm.rank());
    bn.forward(x, desc, y, Mode::kTrain);
    forward[r] = comm.take();
    bn.backward(x, y, dx);
    backward[r] = comm.take();
    bn.forward(x, desc, y, Mode::kInference);
    bn.backward(x, y, dx);
    inference[r] = comm.take();
  });
  ASSERT_EQ(errors, std::vector<std::string>(2));
  const int64_t signature = CountingCommunicator::kSignatureDoubles;
  for (size_t r = 0; r < 2; ++r) {
    EXPECT_EQ(forward[r].all_gathers, 2);
    EXPECT_EQ(forward[r].all_reduces, 0);
    EXPECT_EQ(forward[r].doubles_sent, signature + 3 * kC);
    EXPECT_EQ(backward[r].all_gathers, 1);
    EXPECT_EQ(backward[r].all_reduces, 1);
    EXPECT_EQ(backward[r].doubles_sent, signature + 2 * kC);
    EXPECT_EQ(inference[r].all_gathers + inference[r].all_reduces, 0);
  }
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
