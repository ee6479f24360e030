// ClassifierTrainer: a training step and batched evaluation.
#include "optim/classifier_trainer.hpp"

#include <algorithm>

#include "check.hpp"
#include "nn/dropout.hpp"

namespace bnorm::optim {

ClassifierTrainer::ClassifierTrainer(nn::Sequential& net, Sgd& optimizer, LrSchedule schedule,
                                     TrainerOptions options)
    : net_(net), optimizer_(optimizer), schedule_(schedule), options_(options) {
  detail::check(options.eval_batch > 0, "ClassifierTrainer", "expected eval_batch > 0, got ",
                options.eval_batch);
  if (options.comm == nullptr) return;
  all_reduce_ = std::make_unique<GradientAllReduce>(optimizer.parameters(), *options.comm);
  for (size_t i = 0; i < net.size(); ++i)
    if (auto* d = dynamic_cast<nn::Dropout*>(&net.layer(i))) dropouts_.push_back(d);
}

double ClassifierTrainer::train_step(std::span<const float> x, std::span<const int32_t> labels) {
  const auto batch = static_cast<int64_t>(labels.size());
  optimizer_.set_lr(schedule_.lr_at(steps_done_));
  optimizer_.zero_grad();
  const nn::Tensor& logits = net_.forward(x, batch, nn::Phase::kTrain);
  const double loss = loss_.forward(logits, labels);
  loss_.backward(dlogits_);
  net_.backward(dlogits_);
  optimizer_.step();
  ++steps_done_;
  return loss;
}

double ClassifierTrainer::train_step(std::span<const float> x, std::span<const int32_t> labels,
                                     int64_t global_batch) {
  const auto batch = static_cast<int64_t>(labels.size());
  if (!all_reduce_) {
    detail::check(batch == global_batch, "ClassifierTrainer::train_step",
                  "expected the whole batch of ", global_batch,
                  " rows without a communicator, got ", batch);
    return train_step(x, labels);
  }
  const Shard mine = shard(global_batch);
  detail::check(batch == mine.count, "ClassifierTrainer::train_step",
                "expected this rank's shard of ", mine.count, " rows, got ", batch);
  optimizer_.set_lr(schedule_.lr_at(steps_done_));
  optimizer_.zero_grad();
  // loss = sum over ranks of (b / B) * local mean loss; its gradient divides by B directly.
  const double weight = static_cast<double>(batch) / static_cast<double>(global_batch);
  for (nn::Dropout* d : dropouts_) d->set_batch_rows(mine.begin, global_batch);
  const nn::Tensor& logits = net_.forward(x, batch, nn::Phase::kTrain);
  double loss = loss_.forward(logits, labels) * weight;
  loss_.backward(dlogits_, global_batch);
  net_.backward(dlogits_);
  all_reduce_->run(std::span<double>(&loss, 1));
  optimizer_.step();
  ++steps_done_;
  return loss;
}

Shard ClassifierTrainer::shard(int64_t global_batch) const {
  if (options_.comm == nullptr) return {.begin = 0, .count = global_batch};
  return batch_shard(global_batch, options_.comm->rank(), options_.comm->size());
}

void ClassifierTrainer::set_steps_done(int64_t steps) {
  detail::check(steps >= 0, "ClassifierTrainer::set_steps_done", "expected steps >= 0, got ",
                steps);
  steps_done_ = steps;
}

EvalResult ClassifierTrainer::evaluate(std::span<const float> images,
                                       std::span<const int32_t> labels) {
  const int64_t features = net_.in_features();
  const auto count = static_cast<int64_t>(labels.size());
  detail::check(static_cast<int64_t>(images.size()) == count * features,
                "ClassifierTrainer::evaluate",
                "expected images to hold labels.size() * features = ", count, " * ", features,
                " values, got ", images.size());
  EvalResult result{.count = count};
  double loss_sum = 0.0;
  for (int64_t start = 0; start < count; start += options_.eval_batch) {
    const int64_t rows = std::min(options_.eval_batch, count - start);
    const auto batch_labels = labels.subspan(static_cast<size_t>(start), static_cast<size_t>(rows));
    const nn::Tensor& logits = net_.forward(
        images.subspan(static_cast<size_t>(start * features), static_cast<size_t>(rows * features)),
        rows, nn::Phase::kEval);
    result.correct += nn::count_correct(logits, batch_labels);
    loss_sum += loss_.forward(logits, batch_labels) * static_cast<double>(rows);
  }
  if (count > 0) {
    result.accuracy = static_cast<double>(result.correct) / static_cast<double>(count);
    result.loss = loss_sum / static_cast<double>(count);
  }
  return result;
}

}  // namespace bnorm::optim
