// The training loop of a classifier, one call per step: forward in the training phase, softmax
// cross-entropy, backward, SGD update with the scheduled learning rate; and evaluation of a whole
// dataset in the eval phase (BN running statistics) in batches. Data comes as spans, so any loader
// (or a test's vector) can feed it. No allocation per step once the first batch has been seen.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "bnorm/communicator.hpp"
#include "nn/dropout.hpp"
#include "nn/sequential.hpp"
#include "nn/softmax_cross_entropy.hpp"
#include "optim/data_parallel.hpp"
#include "optim/lr_schedule.hpp"
#include "optim/sgd.hpp"

namespace bnorm::optim {

struct EvalResult {
  int64_t count = 0;
  int64_t correct = 0;
  double accuracy = 0.0;  // correct / count
  double loss = 0.0;      // mean cross-entropy over the dataset
};

struct TrainerOptions {
  int64_t eval_batch = 1000;  // rows per forward in evaluate(); > 0
  // Data-parallel training over these ranks (must outlive the trainer); nullptr: one process.
  // Each rank trains on its shard of every batch, and the gradients are summed over the ranks
  // before the update, so every rank takes the same step. BatchNorm layers stay per-rank unless
  // synchronize_batch_norm() switched them. Dropout layers drop what one process on the whole
  // batch would (Dropout::set_batch_rows).
  Communicator* comm = nullptr;
};

class ClassifierTrainer {
 public:
  // net and optimizer must outlive the trainer; the optimizer holds net's parameters.
  ClassifierTrainer(nn::Sequential& net, Sgd& optimizer, LrSchedule schedule,
                    TrainerOptions options = {});

  // One SGD step on x [B, features] with labels [B] (B = labels.size() > 1 with BatchNorm).
  // The learning rate is schedule.lr_at(steps_done()). Returns the batch's mean loss before the
  // update. Throws bnorm::Error on mismatched sizes or a label outside [0, classes).
  double train_step(std::span<const float> x, std::span<const int32_t> labels);

  // Data parallel (options.comm set): one SGD step on this rank's shard (x, labels) of a global
  // batch of global_batch rows (shard(global_batch) says which rows). The loss is the global
  // batch's mean, so each rank scales its loss gradient by labels.size() / global_batch, and the
  // returned loss is the global batch's mean loss (the same on every rank). One all-reduce of
  // every gradient and the loss per step (GradientAllReduce). Without options.comm it is
  // train_step(x, labels) and requires labels.size() == global_batch.
  double train_step(std::span<const float> x, std::span<const int32_t> labels,
                    int64_t global_batch);
  // This rank's rows of a global batch ({0, global_batch} without options.comm).
  Shard shard(int64_t global_batch) const;
  // The gradient all-reduce (nullptr without options.comm): calls made, values per call.
  const GradientAllReduce* gradient_all_reduce() const { return all_reduce_.get(); }

  // Accuracy and loss over images [count, features] and labels [count], in Phase::kEval.
  EvalResult evaluate(std::span<const float> images, std::span<const int32_t> labels);

  int64_t steps_done() const { return steps_done_; }
  // For resuming from a checkpoint (training_checkpoint.hpp): the schedule continues from here.
  void set_steps_done(int64_t steps);
  nn::Sequential& net() { return net_; }
  Sgd& optimizer() { return optimizer_; }
  double last_lr() const { return optimizer_.lr(); }

 private:
  nn::Sequential& net_;
  Sgd& optimizer_;
  LrSchedule schedule_;
  TrainerOptions options_;
  nn::SoftmaxCrossEntropy loss_;
  nn::Tensor dlogits_;  // [B, classes]
  std::unique_ptr<GradientAllReduce> all_reduce_;
  std::vector<nn::Dropout*> dropouts_;  // data parallel: told their shard's rows every step
  int64_t steps_done_ = 0;
};

}  // namespace bnorm::optim
