// Ranks that disagree, or a rank with bad input, make every rank throw (the same one-line error
// where the ranks disagree) and never hang; the threads communicator's own failure modes.
#include <gtest/gtest.h>

#include <bnorm/error.hpp>
#include <bnorm/sync_batch_norm.hpp>
#include <bnorm/thread_communicator.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace bnorm::test {
namespace {

// One training forward per rank of an [n, C, 3] batch ([n, C] for kNC) with the rank's options
// (and dtype).
template <typename T>
void forward_once(Communicator& comm, const BatchNormOptions& options, int64_t n = 2) {
  SyncBatchNorm<T> bn(options, comm);
  const bool nc = options.layout == Layout::kNC;
  const TensorDesc desc = nc ? TensorDesc{{n, options.num_features}, options.layout}
                             : TensorDesc{{n, options.num_features, 3}, options.layout};
  std::vector<T> x(static_cast<size_t>(n * options.num_features * (nc ? 1 : 3))), y(x.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<T>(i % 5);
  bn.forward(x, desc, y, Mode::kTrain);
}

// Expects every rank to have thrown the same message, containing `needle`.
void expect_same_error_everywhere(const std::vector<std::string>& errors,
                                  const std::string& needle) {
  for (size_t r = 0; r < errors.size(); ++r) {
    EXPECT_NE(errors[r].find(needle), std::string::npos) << "rank " << r << ": " << errors[r];
    EXPECT_EQ(errors[r], errors[0]) << "rank " << r;
    EXPECT_EQ(errors[r].find('\n'), std::string::npos) << "one line: " << errors[r];
  }
}

TEST(SyncDisagreement, ChannelCounts) {
  const auto errors = run_on_threads(3, [](Communicator& comm) {
    forward_once<float>(comm, {.num_features = comm.rank() == 2 ? 5 : 4});
  });
  expect_same_error_everywhere(
      errors,
      "[sync_batch_norm_forward_train] expected every rank to agree on channels (dims[1]), "
      "got rank 0: 4, rank 1: 4, rank 2: 5");
}

TEST(SyncDisagreement, Dtype) {
  const auto errors = run_on_threads(2, [](Communicator& comm) {
    if (comm.rank() == 0) forward_once<float>(comm, {.num_features = 3});
    if (comm.rank() == 1) forward_once<double>(comm, {.num_features = 3});
  });
  expect_same_error_everywhere(errors, "dtype (bytes per element), got rank 0: 4, rank 1: 8");
}

TEST(SyncDisagreement, MomentumAndEps) {
  auto errors = run_on_threads(2, [](Communicator& comm) {
    forward_once<double>(comm, {.num_features = 3, .momentum = comm.rank() == 0 ? 0.1 : 0.2});
  });
  expect_same_error_everywhere(errors, "momentum");
  errors = run_on_threads(2, [](Communicator& comm) {
    forward_once<double>(comm, {.num_features = 3, .eps = comm.rank() == 0 ? 1e-5 : 1e-3});
  });
  expect_same_error_everywhere(errors, "eps");
}

TEST(SyncDisagreement, Layout) {
  const auto errors = run_on_threads(2, [](Communicator& comm) {
    forward_once<double>(
        comm, {.num_features = 3,
               .layout = comm.rank() == 0 ? Layout::kChannelsFirst : Layout::kChannelsLast});
  });
  expect_same_error_everywhere(errors, "layout");
}

TEST(SyncDisagreement, InvalidInputOnOneRankStopsAllRanks) {
  const auto errors = run_on_threads(3, [](Communicator& comm) {
    SyncBatchNorm<double> bn({.num_features = 2}, comm);
    std::vector<double> x(8, 1.0), y(8);
    // Rank 1's x is one element short of its desc.
    const std::span<const double> xs(x.data(), comm.rank() == 1 ? 7 : 8);
    bn.forward(xs, {{2, 2, 2}, Layout::kChannelsFirst}, y, Mode::kTrain);
  });
  EXPECT_NE(errors[1].find("expected x to hold 8 elements, got 7"), std::string::npos) << errors[1];
  for (int r : {0, 2}) {
    EXPECT_NE(errors[static_cast<size_t>(r)].find("got rank 1 rejecting its input"),
              std::string::npos)
        << errors[static_cast<size_t>(r)];
  }
}

TEST(SyncDisagreement, GlobalBatchOfOneValueFailsOnEveryRank) {
  const auto errors = run_on_threads(2, [](Communicator& comm) {
    forward_once<double>(comm, {.num_features = 3, .layout = Layout::kNC}, comm.rank());
  });
  expect_same_error_everywhere(
      errors, "expected more than one value per channel in the global batch, got 1");
}

// After the first forward the signature rides along with the moments: a later disagreement
// (shape, mode) or bad input still stops every rank, with the same messages.
struct LaterCall {
  int64_t spatial = 3;
  Mode mode = Mode::kTrain;
  size_t x_short = 0;   // elements missing from x
  size_t dy_short = 0;  // elements missing from dy
};

void good_step_then(Communicator& comm, const LaterCall& later) {
  SyncBatchNorm<double> bn({.num_features = 2}, comm);
  std::vector<double> x(2 * 2 * 4), y(x.size()), dx(x.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i % 5);
  const TensorDesc good{{2, 2, 3}, Layout::kChannelsFirst};
  const std::span<const double> x12(x.data(), 12);
  bn.forward(x12, good, std::span<double>(y.data(), 12), Mode::kTrain);
  bn.backward(x12, std::span<const double>(y.data(), 12), std::span<double>(dx.data(), 12));
  const TensorDesc desc{{2, 2, later.spatial}, Layout::kChannelsFirst};
  const auto n = static_cast<size_t>(4 * later.spatial);
  bn.forward(std::span<const double>(x.data(), n - later.x_short), desc,
             std::span<double>(y.data(), n), later.mode);
  bn.backward(std::span<const double>(x.data(), n),
              std::span<const double>(y.data(), n - later.dy_short),
              std::span<double>(dx.data(), n));
}

TEST(SyncDisagreement, LaterShapeOrModeStopsEveryRank) {
  auto errors = run_on_threads(
      3, [](Communicator& comm) { good_step_then(comm, {.spatial = comm.rank() == 1 ? 4 : 3}); });
  expect_same_error_everywhere(errors,
                               "[sync_batch_norm_forward_train] expected every rank to agree on "
                               "dims[2], got rank 0: 3, rank 1: 4, rank 2: 3");
  errors = run_on_threads(2, [](Communicator& comm) {
    good_step_then(comm, {.mode = comm.rank() == 0 ? Mode::kTrain : Mode::kBatchStats});
  });
  expect_same_error_everywhere(errors, "expected every rank to agree on mode");
}

TEST(SyncDisagreement, LaterInvalidInputStopsEveryRank) {
  for (const bool in_backward : {false, true}) {
    const auto errors = run_on_threads(3, [&](Communicator& comm) {
      const size_t missing = comm.rank() == 2 ? 1 : 0;
      good_step_then(comm,
                     in_backward ? LaterCall{.dy_short = missing} : LaterCall{.x_short = missing});
    });
    const std::string own = in_backward ? "expected dy to hold 12 elements, got 11"
                                        : "expected x to hold 12 elements, got 11";
    const std::string op =
        in_backward ? "[sync_batch_norm_backward]" : "[sync_batch_norm_forward_train]";
    EXPECT_NE(errors[2].find(own), std::string::npos) << errors[2];
    for (size_t r : {0u, 1u}) {
      EXPECT_EQ(errors[r], op + " expected valid input on every rank, got rank 2 rejecting its "
                                "input (that rank's error says why)");
    }
  }
}

TEST(ThreadCommunicator, DifferentCountsThrowTheSameErrorOnEveryRank) {
  const auto errors = run_on_threads(2, [](Communicator& comm) {
    std::vector<double> v(comm.rank() == 0 ? 3 : 4, 1.0);
    comm.all_reduce_sum(v);
  });
  expect_same_error_everywhere(errors,
                               "expected the same element count from every rank in "
                               "all_reduce_sum, got 3, 4");
}

TEST(ThreadCommunicator, SumsAndGathersInRankOrder) {
  std::vector<std::vector<double>> sums(3), gathers(3);
  const auto errors = run_on_threads(3, [&](Communicator& comm) {
    const auto r = static_cast<size_t>(comm.rank());
    std::vector<double> v = {1.0 + static_cast<double>(r), 10.0 * static_cast<double>(r)};
    std::vector<double> all(6);
    comm.all_gather(v, all);
    comm.all_reduce_sum(v);
    sums[r] = v;
    gathers[r] = all;
  });
  ASSERT_EQ(errors, std::vector<std::string>(3));
  for (size_t r = 0; r < 3; ++r) {
    EXPECT_EQ(sums[r], (std::vector<double>{6.0, 30.0}));
    EXPECT_EQ(gathers[r], (std::vector<double>{1, 0, 2, 10, 3, 20}));
  }
}

// A rank that never arrives: the others throw after the timeout instead of waiting forever.
TEST(ThreadCommunicator, AbsentRankTimesOut) {
  ThreadGroup group(2, std::chrono::milliseconds(200));
  std::string error;
  std::thread waiting([&] {
    try {
      std::vector<double> v(1, 1.0);
      group.communicator(0).all_reduce_sum(v);
    } catch (const Error& e) {
      error = e.what();
    }
  });
  waiting.join();
  EXPECT_NE(error.find("expected all 2 ranks at a collective within 200 ms, got 1"),
            std::string::npos)
      << error;
}

}  // namespace
}  // namespace bnorm::test
