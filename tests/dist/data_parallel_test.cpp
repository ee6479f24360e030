// Data-parallel training through the threads communicator: batch shards, the gradient all-reduce,
// BatchNorm layers switched to SyncBatchNorm against one layer on the whole batch, and K ranks of
// ClassifierTrainer against one process on the same batches (parameters and loss).
#include "optim/data_parallel.hpp"

#include <gtest/gtest.h>

#include <bnorm/thread_communicator.hpp>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "bnorm/error.hpp"
#include "nn/batch_norm_layer.hpp"
#include "nn/conv/channel_batch_norm_layer.hpp"
#include "nn/mlp.hpp"
#include "optim/classifier_trainer.hpp"

namespace bnorm::test {
namespace {

std::vector<float> random_values(size_t n, uint64_t seed, float shift = 0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng) + shift;
  return v;
}

void expect_all_ok(const std::vector<std::string>& errors) {
  for (size_t r = 0; r < errors.size(); ++r) EXPECT_EQ(errors[r], "") << "rank " << r;
}

// |a - r| <= atol + rtol * |r| element by element, naming the first failure.
void expect_close(std::span<const float> a, std::span<const float> r, double rtol, double atol,
                  const std::string& what) {
  ASSERT_EQ(a.size(), r.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_LE(std::abs(double(a[i]) - r[i]), atol + rtol * std::abs(double(r[i])))
        << what << " [" << i << "]: " << a[i] << " vs " << r[i];
  }
}

TEST(BatchShard, UnevenShardsCoverTheBatchInRankOrder) {
  for (auto [batch, ranks] :
       std::vector<std::pair<int64_t, int>>{{60, 3}, {60, 7}, {2, 3}, {61, 2}}) {
    int64_t next = 0;
    for (int r = 0; r < ranks; ++r) {
      const optim::Shard s = optim::batch_shard(batch, r, ranks);
      EXPECT_EQ(s.begin, next) << batch << " over " << ranks << ", rank " << r;
      const int64_t want = batch / ranks + (r < batch % ranks ? 1 : 0);
      EXPECT_EQ(s.count, want) << batch << " over " << ranks << ", rank " << r;
      next += s.count;
    }
    EXPECT_EQ(next, batch);
  }
  EXPECT_EQ(optim::batch_shard(60, 3, 7).count, 9);
  EXPECT_EQ(optim::batch_shard(60, 4, 7).count, 8);
  EXPECT_EQ(optim::batch_shard(60, 4, 7).begin, 36);
  EXPECT_THROW(optim::batch_shard(60, 3, 3), Error);
  EXPECT_THROW(optim::batch_shard(-1, 0, 1), Error);
}

TEST(GradientAllReduce, SumsEveryGradientAndTheExtrasInOneCall) {
  constexpr int kRanks = 3;
  const auto errors = run_on_threads(kRanks, [&](Communicator& comm) {
    const float r = static_cast<float>(comm.rank());
    std::vector<float> w(5, 0.0f), dw{1 + r, 2 * r, -r, 0.5f, 10 * r};
    std::vector<float> b(2, 0.0f), db{r, 100.0f};
    optim::GradientAllReduce reduce({{"weight", w, dw}, {"bias", b, db}}, comm);
    double loss = 0.25 * (r + 1);
    reduce.run(std::span<double>(&loss, 1));
    // Sums over r = 0, 1, 2.
    const std::vector<float> want_dw{6, 6, -3, 1.5f, 30}, want_db{3, 300};
    if (dw != want_dw || db != want_db || loss != 1.5)
      throw Error("rank " + std::to_string(comm.rank()) + ": wrong sums");
    if (reduce.calls() != 1 || reduce.doubles_per_call(1) != 8) throw Error("wrong counts");
    if (w != std::vector<float>(5, 0.0f)) throw Error("values touched");
  });
  expect_all_ok(errors);
}

// A BN layer per rank, switched to SyncBatchNorm, fed its shard of one batch: outputs, din,
// summed parameter gradients and running statistics equal one layer on the whole batch.
template <typename Layer, typename Make>
void check_synced_layer(int ranks, int64_t batch, int64_t features, const Make& make) {
  const std::vector<float> x = random_values(static_cast<size_t>(batch * features), 7, 10.0f);
  const std::vector<float> dy = random_values(x.size(), 8);
  Layer whole = make();
  nn::Tensor xt({batch, features}), yt({batch, features}), dyt({batch, features}), dxt;
  dxt.resize(batch, features);
  std::ranges::copy(x, xt.span().begin());
  std::ranges::copy(dy, dyt.span().begin());
  whole.forward(xt, yt, nn::Phase::kTrain);
  whole.backward(xt, yt, dyt, &dxt);

  const auto errors = run_on_threads(ranks, [&](Communicator& comm) {
    const optim::Shard s = optim::batch_shard(batch, comm.rank(), comm.size());
    Layer layer = make();
    layer.synchronize(comm);
    const auto rows = [&](std::span<const float> v) {
      return v.subspan(static_cast<size_t>(s.begin * features),
                       static_cast<size_t>(s.count * features));
    };
    nn::Tensor xs({s.count, features}), ys({s.count, features}), dys({s.count, features}), dxs;
    dxs.resize(s.count, features);
    std::ranges::copy(rows(x), xs.span().begin());
    std::ranges::copy(rows(dy), dys.span().begin());
    layer.forward(xs, ys, nn::Phase::kTrain);
    layer.backward(xs, ys, dys, &dxs);
    optim::GradientAllReduce(layer.parameters(), comm).run();
    const std::string at = "rank " + std::to_string(comm.rank()) + " ";
    expect_close(ys.span(), rows(yt.span()), 1e-5, 1e-5, at + "y");
    expect_close(dxs.span(), rows(dxt.span()), 1e-4, 1e-5, at + "dx");
    expect_close(layer.module().grad_gamma(), whole.module().grad_gamma(), 1e-4, 1e-4,
                 at + "dgamma");
    expect_close(layer.module().grad_beta(), whole.module().grad_beta(), 1e-4, 1e-4, at + "dbeta");
    expect_close(layer.module().running_mean(), whole.module().running_mean(), 1e-5, 1e-5,
                 at + "running_mean");
    expect_close(layer.module().running_var(), whole.module().running_var(), 1e-5, 1e-5,
                 at + "running_var");
  });
  expect_all_ok(errors);
}

TEST(SyncedLayers, BatchNormLayerOnShardsEqualsTheWholeBatch) {
  for (int ranks : {2, 3}) {
    SCOPED_TRACE(ranks);
    check_synced_layer<nn::BatchNormLayer>(ranks, 11, 5,
                                           [] { return nn::BatchNormLayer({.num_features = 5}); });
  }
}

TEST(SyncedLayers, ChannelBatchNormLayerOnShardsEqualsTheWholeBatch) {
  const nn::ImageShape shape{.c = 3, .h = 4, .w = 5};
  for (int ranks : {2, 3}) {
    SCOPED_TRACE(ranks);
    check_synced_layer<nn::ChannelBatchNormLayer>(
        ranks, 7, shape.numel(), [&] { return nn::ChannelBatchNormLayer(shape, {}); });
  }
}

// Trains an MLP with BN for a few steps; ranks > 0 train data parallel over comm.
struct Trained {
  std::vector<float> parameters;
  std::vector<double> losses;
};

Trained train_mlp(Communicator* comm, bool sync_bn, int64_t batch, double dropout = 0.0,
                  nn::BnPlacement bn = nn::BnPlacement::kBefore, int64_t row_chunk = 0) {
  constexpr int64_t kFeatures = 12, kClasses = 4, kSteps = 5;
  nn::Mlp mlp(nn::MlpOptions{.sizes = {kFeatures, 16, 16, kClasses},
                             .activation = nn::Nonlinearity::kSigmoid,
                             .bn = bn,
                             .init = {.sigma = 0.5},
                             .seed = 3,
                             .dropout = dropout,
                             .linear_row_chunk = row_chunk});
  if (comm != nullptr && sync_bn) {
    EXPECT_EQ(optim::synchronize_batch_norm(mlp.net(), *comm),
              bn == nn::BnPlacement::kNone ? 0 : 2);
  }
  optim::Sgd sgd(mlp.net().parameters(), {.lr = 0.5, .momentum = 0.9});
  optim::ClassifierTrainer trainer(mlp.net(), sgd, optim::LrSchedule::constant(0.5),
                                   {.comm = comm});
  Trained t;
  for (int64_t step = 0; step < kSteps; ++step) {
    const std::vector<float> x =
        random_values(static_cast<size_t>(batch * kFeatures), 100 + step, 1.0f);
    std::vector<int32_t> y(static_cast<size_t>(batch));
    for (size_t i = 0; i < y.size(); ++i) y[i] = static_cast<int32_t>((i * 7 + step) % kClasses);
    const optim::Shard s = trainer.shard(batch);
    t.losses.push_back(trainer.train_step(
        std::span<const float>(x).subspan(static_cast<size_t>(s.begin * kFeatures),
                                          static_cast<size_t>(s.count * kFeatures)),
        std::span<const int32_t>(y).subspan(static_cast<size_t>(s.begin),
                                            static_cast<size_t>(s.count)),
        batch));
  }
  for (const nn::Parameter& p : mlp.net().parameters())
    t.parameters.insert(t.parameters.end(), p.value.begin(), p.value.end());
  for (const nn::Buffer& b : mlp.net().buffers())
    t.parameters.insert(t.parameters.end(), b.value.begin(), b.value.end());
  return t;
}

// Largest |a - b| / max(|b|, 1e-3) over the trained values.
double max_relative_difference(const Trained& a, const Trained& b) {
  double worst = 0;
  for (size_t i = 0; i < a.parameters.size(); ++i) {
    const double r = b.parameters[i];
    worst = std::max(worst, std::abs(a.parameters[i] - r) / std::max(std::abs(r), 1e-3));
  }
  return worst;
}

TEST(DataParallelTrainer, RanksWithSyncBnTrainLikeOneProcessOnTheWholeBatch) {
  constexpr int64_t kBatch = 13;  // uneven over 2 and 3 ranks
  const Trained one = train_mlp(nullptr, true, kBatch);
  for (int ranks : {2, 3}) {
    std::vector<Trained> got(static_cast<size_t>(ranks));
    expect_all_ok(run_on_threads(ranks, [&](Communicator& comm) {
      got[static_cast<size_t>(comm.rank())] = train_mlp(&comm, true, kBatch);
    }));
    for (int r = 0; r < ranks; ++r) {
      const Trained& t = got[static_cast<size_t>(r)];
      ASSERT_EQ(t.parameters.size(), one.parameters.size());
      EXPECT_EQ(t.parameters, got[0].parameters) << "ranks took different steps, rank " << r;
      EXPECT_LT(max_relative_difference(t, one), 1e-4) << ranks << " ranks, rank " << r;
      for (size_t i = 0; i < one.losses.size(); ++i)
        EXPECT_NEAR(t.losses[i], one.losses[i], 1e-5 * one.losses[i]) << "step " << i;
    }
  }
}

// Without BN and with Linear's GEMMs in chunks of 10 rows, shards of whole chunks compute what
// one process computes: the same rows, chunk sums and one rounding of the gradient, to the bit.
// With one GEMM call per batch they do not (OpenBLAS's bits depend on the call's rows).
TEST(DataParallelTrainer, RanksWithoutBnTrainToTheBitOfOneProcessWithRowChunks) {
  constexpr int64_t kBatch = 60;
  for (int64_t chunk : {10, 0}) {
    const Trained one = train_mlp(nullptr, false, kBatch, 0.0, nn::BnPlacement::kNone, chunk);
    for (int ranks : {2, 3}) {
      std::vector<Trained> got(static_cast<size_t>(ranks));
      expect_all_ok(run_on_threads(ranks, [&](Communicator& comm) {
        got[static_cast<size_t>(comm.rank())] =
            train_mlp(&comm, false, kBatch, 0.0, nn::BnPlacement::kNone, chunk);
      }));
      for (int r = 0; r < ranks; ++r) {
        const bool same = got[static_cast<size_t>(r)].parameters == one.parameters;
        EXPECT_EQ(same, chunk > 0)
            << "row_chunk " << chunk << ", " << ranks << " ranks, rank " << r;
      }
    }
  }
}

// Each rank's Dropout layers draw the whole batch's mask and keep their shard's rows.
TEST(DataParallelTrainer, RanksWithDropoutDropWhatOneProcessDrops) {
  constexpr int64_t kBatch = 13;
  const Trained one = train_mlp(nullptr, true, kBatch, 0.3);
  for (int ranks : {2, 3}) {
    std::vector<Trained> got(static_cast<size_t>(ranks));
    expect_all_ok(run_on_threads(ranks, [&](Communicator& comm) {
      got[static_cast<size_t>(comm.rank())] = train_mlp(&comm, true, kBatch, 0.3);
    }));
    for (int r = 0; r < ranks; ++r) {
      EXPECT_LT(max_relative_difference(got[static_cast<size_t>(r)], one), 1e-4)
          << ranks << " ranks, rank " << r;
    }
  }
  // Dropout does change the training: the comparison above can tell masks apart.
  EXPECT_GT(max_relative_difference(train_mlp(nullptr, true, kBatch), one), 1e-2);
}

// Per-rank BN statistics (no synchronize) is a different computation: the check above can fail.
TEST(DataParallelTrainer, RanksWithLocalBnDoNotTrainLikeOneProcess) {
  constexpr int64_t kBatch = 13;
  const Trained one = train_mlp(nullptr, true, kBatch);
  std::vector<Trained> got(3);
  expect_all_ok(run_on_threads(3, [&](Communicator& comm) {
    got[static_cast<size_t>(comm.rank())] = train_mlp(&comm, false, kBatch);
  }));
  EXPECT_GT(max_relative_difference(got[0], one), 1e-2);
}

TEST(DataParallelTrainer, WholeBatchStepWithoutACommunicatorRejectsAShard) {
  nn::Mlp mlp = nn::build_mlp({3, 4, 2}, nn::Nonlinearity::kSigmoid, nn::BnPlacement::kBefore, 1);
  optim::Sgd sgd(mlp.net().parameters(), {.lr = 0.1});
  optim::ClassifierTrainer trainer(mlp.net(), sgd, optim::LrSchedule::constant(0.1));
  const std::vector<float> x(6, 1.0f);
  const std::vector<int32_t> y{0, 1};
  EXPECT_THROW(trainer.train_step(x, y, 4), Error);
  EXPECT_EQ(trainer.shard(4).count, 4);
}

}  // namespace
}  // namespace bnorm::test
