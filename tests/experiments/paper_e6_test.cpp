// E6 (Batch Renorm vs BN vs none) on tiny synthetic data: both drivers produce their claim row,
// CSV and one plot per batch condition; two-class batches hold exactly two classes, half each,
// and visit every sample of a class before repeating one. No full experiment runs here.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "band_images.hpp"
#include "bnorm/error.hpp"
#include "experiments/paper_experiments.hpp"
#include "experiments/two_class_batches.hpp"

namespace bnorm::experiments {
namespace {

data::Dataset bands(int64_t count, uint64_t seed) { return test::band_images(count, seed); }

TEST(E6, BothNetworksProduceTheirClaims) {
  const data::Dataset train = bands(400, 1), test = bands(50, 2);
  const PaperSettings s{.seeds = 1, .steps = 2, .show_progress = false};
  for (const std::string id : {"E6-MLP", "E6-CNN"}) {
    const ExperimentResult r = run_paper_experiment(id, s, train, test);
    ASSERT_EQ(r.claims.size(), 1u) << id;
    EXPECT_EQ(r.claims[0].id, id);
    EXPECT_EQ(r.csv.substr(0, r.csv.find('\n')),
              "condition,model,seed,examples_seen,test_acc,diverged_at");
    EXPECT_EQ(r.plots.size(), 3u) << id;
    EXPECT_NE(r.claims[0].measured.find("batch 4 "), std::string::npos) << r.claims[0].measured;
    // 2 steps at batch 60 are 30 at batch 4: the batch-4 runs end at 120 examples seen.
    EXPECT_NE(r.csv.find("iid4,BN,1,120,"), std::string::npos) << r.csv;
    EXPECT_NE(r.csv.find("noniid60,Batch Renorm,1,120,"), std::string::npos) << r.csv;
  }
}

TEST(E6, TwoClassBatchesHoldTwoClassesHalfEach) {
  const data::Dataset d = bands(400, 3);
  TwoClassBatches batches(d, 60, 7);
  std::vector<float> x(60 * 784);
  std::vector<int32_t> y(60);
  for (int b = 0; b < 20; ++b) {
    batches.next_into(x, y);
    std::map<int32_t, int> count;
    for (int32_t label : y) ++count[label];
    ASSERT_EQ(count.size(), 2u) << "batch " << b;
    for (const auto& [label, n] : count) EXPECT_EQ(n, 30) << "batch " << b;
    for (int i = 0; i < 30; ++i) EXPECT_EQ(y[static_cast<size_t>(i)], y[0]);
  }
  EXPECT_THROW(TwoClassBatches(d, 100, 1), Error);  // 50 per class needed, 40 there
  EXPECT_THROW(TwoClassBatches(d, 7, 1), Error);
}

TEST(E6, TwoClassBatchesUseEverySampleOfAClassBeforeRepeating) {
  const data::Dataset d = bands(400, 4);
  TwoClassBatches batches(d, 2, 9);  // one sample of each of two classes per batch
  std::vector<float> x(2 * 784);
  std::vector<int32_t> y(2);
  std::map<int32_t, std::set<float>> firsts;  // the noise makes each sample's pixel 0 unique
  std::map<int32_t, int> drawn;
  for (int b = 0; b < 200; ++b) {
    batches.next_into(x, y);
    for (int r = 0; r < 2; ++r) {
      const int32_t label = y[static_cast<size_t>(r)];
      if (drawn[label]++ < 40) {
        EXPECT_TRUE(firsts[label].insert(x[static_cast<size_t>(r) * 784]).second)
            << "class " << label << " repeated a sample within its first 40 draws";
      }
    }
  }
}

}  // namespace
}  // namespace bnorm::experiments
