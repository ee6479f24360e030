// The experiments' training loop: batches, steps, the evaluation cadence, divergence, progress.
#include "experiments/training_loop.hpp"

#include <cmath>
#include <cstdio>
#include <optional>
#include <vector>

#include "check.hpp"
#include "data/batch_iterator.hpp"
#include "experiments/progress.hpp"

namespace bnorm::experiments {
namespace {

std::string accuracy_text(double accuracy) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "test acc %.2f%%", 100 * accuracy);
  return buf;
}

}  // namespace

int64_t run_training_loop(optim::ClassifierTrainer& trainer, const data::Dataset& train,
                          const TrainingLoop& loop,
                          const std::function<double(const EvalPoint&)>& on_eval) {
  const std::string op = "train " + loop.label;
  detail::check(loop.steps > 0 && loop.eval_every > 0, op,
                "expected positive steps and evaluation interval, got ", loop.steps, " and ",
                loop.eval_every);
  detail::check(loop.batch > 1 && loop.batch <= train.count, op, "expected a batch in [2, ",
                train.count, "], got ", loop.batch);
  data::BatchIterator batches(train, loop.batch, loop.seed, /*binarize=*/false);
  std::vector<float> x(static_cast<size_t>(loop.batch * train.features));  // [batch, features]
  std::vector<int32_t> y(static_cast<size_t>(loop.batch));                 // [batch]

  const optim::Shard shard = trainer.shard(loop.batch);
  const bool data_parallel = trainer.gradient_all_reduce() != nullptr;
  detail::check(shard.count > 0, op, "expected at least one row of each batch on every rank, got ",
                loop.batch, " rows over more ranks");

  std::optional<Progress> progress;
  if (loop.show_progress) {
    ProgressOptions options{.label = loop.label, .total = loop.steps};
    if (loop.plain_progress) options.interactive = false;
    progress.emplace(options);
  }
  int64_t diverged_at = -1;
  double loss_sum = 0;
  int64_t loss_count = 0;
  double accuracy = 0;
  auto evaluate = [&](int64_t step) {
    accuracy = on_eval(
        {.step = step,
         .mean_loss = loss_count ? loss_sum / static_cast<double>(loss_count) : std::nan(""),
         .diverged = diverged_at >= 0});
    loss_sum = 0;
    loss_count = 0;
  };

  evaluate(0);
  for (int64_t step = 1; step <= loop.steps; ++step) {
    if (diverged_at < 0) {
      batches.next_into(x, y);
      // Data parallel: every rank draws the same global batch and trains on its rows of it.
      const double loss =
          data_parallel ? trainer.train_step(
                              std::span<const float>(x).subspan(
                                  static_cast<size_t>(shard.begin * train.features),
                                  static_cast<size_t>(shard.count * train.features)),
                              std::span<const int32_t>(y).subspan(static_cast<size_t>(shard.begin),
                                                                  static_cast<size_t>(shard.count)),
                              loop.batch)
                        : trainer.train_step(x, y);
      if (!std::isfinite(loss)) {
        diverged_at = step;
        if (loop.stop_at_divergence) break;
      } else {
        loss_sum += loss;
        ++loss_count;
      }
    }
    if (step % loop.eval_every == 0 || step == loop.steps) {
      evaluate(step);
      if (progress) progress->update(step, accuracy_text(accuracy));
    }
  }
  if (progress) {
    progress->finish(diverged_at >= 0 ? "diverged at step " + std::to_string(diverged_at)
                                      : accuracy_text(accuracy));
  }
  return diverged_at;
}

}  // namespace bnorm::experiments
