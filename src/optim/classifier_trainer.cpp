// ClassifierTrainer: a training step and batched evaluation.
#include "optim/classifier_trainer.hpp"

#include <algorithm>

#include "check.hpp"

namespace bnorm::optim {

ClassifierTrainer::ClassifierTrainer(nn::Sequential& net, Sgd& optimizer, LrSchedule schedule,
                                     TrainerOptions options)
    : net_(net), optimizer_(optimizer), schedule_(schedule), options_(options) {
  detail::check(options.eval_batch > 0, "ClassifierTrainer", "expected eval_batch > 0, got ",
                options.eval_batch);
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
