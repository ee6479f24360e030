// A training step allocates nothing once the buffers have been sized by the first step, with and
// without BatchNorm: global operator new is counted while steps run.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "nn/mlp.hpp"
#include "nn_test_util.hpp"
#include "optim/classifier_trainer.hpp"

namespace {
std::atomic<bool> counting{false};
std::atomic<int64_t> allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t /*size*/) noexcept { std::free(p); }

namespace bnorm::nn {
namespace {

TEST(Allocation, TrainingStepWithoutBatchNormAllocatesNothingAfterTheFirst) {
  const test::Blobs data = test::make_blobs(64, 10, 3, 1);
  Mlp mlp(MlpOptions{.sizes = {10, 8, 8, 3}, .seed = 1, .dropout = 0.1});
  optim::Sgd sgd(mlp.net().parameters(), {.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-4});
  optim::ClassifierTrainer trainer(mlp.net(), sgd, optim::LrSchedule::exponential(0.1, 0.99));
  const auto x = std::span(data.x).subspan(0, 16 * 10);
  const auto y = std::span(data.y).subspan(0, 16);
  trainer.train_step(x, y);  // sizes every buffer
  counting = true;
  for (int step = 0; step < 5; ++step) trainer.train_step(x, y);
  counting = false;
  EXPECT_EQ(allocations.load(), 0);
}

TEST(Allocation, TrainingStepWithBatchNormAllocatesNothingAfterTheFirst) {
  const test::Blobs data = test::make_blobs(64, 10, 3, 1);
  Mlp mlp(MlpOptions{.sizes = {10, 8, 8, 3}, .bn = BnPlacement::kBefore, .seed = 1});
  optim::Sgd sgd(mlp.net().parameters(), {.lr = 0.1, .momentum = 0.9});
  optim::ClassifierTrainer trainer(mlp.net(), sgd, optim::LrSchedule::constant(0.1));
  const auto x = std::span(data.x).subspan(0, 16 * 10);
  const auto y = std::span(data.y).subspan(0, 16);
  trainer.train_step(x, y);
  allocations = 0;
  counting = true;
  for (int step = 0; step < 5; ++step) trainer.train_step(x, y);
  counting = false;
  EXPECT_EQ(allocations.load(), 0);
}

}  // namespace
}  // namespace bnorm::nn
