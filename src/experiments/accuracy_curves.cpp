// Training a network into a test-accuracy curve, averaging curves over seeds, plotting them.
#include "experiments/accuracy_curves.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "experiments/paper_settings.hpp"
#include "experiments/paper_text.hpp"
#include "experiments/training_loop.hpp"
#include "optim/classifier_trainer.hpp"
#include "optim/data_parallel.hpp"

namespace bnorm::experiments {

Curve train_curve(const std::string& name, nn::Sequential& net, const TrainSpec& spec,
                  const data::Dataset& train, const data::Dataset& test) {
  require(spec.decay_over_run > 0 && spec.decay_over_run <= 1, name,
          "decay over the run must be in (0, 1], got " + fmt("%g", spec.decay_over_run));
  // Before the optimizer takes the parameters: synchronizing moves the BN layers' views.
  if (spec.comm != nullptr) optim::synchronize_batch_norm(net, *spec.comm);
  optim::Sgd sgd(net.parameters(), spec.sgd);
  const double gamma = std::pow(spec.decay_over_run, 1.0 / static_cast<double>(spec.steps));
  optim::ClassifierTrainer trainer(net, sgd, optim::LrSchedule::exponential(spec.sgd.lr, gamma),
                                   {.eval_batch = spec.eval_batch, .comm = spec.comm});
  Curve curve{.name = name};
  const TrainingLoop loop{.steps = spec.steps,
                          .batch = spec.batch,
                          .eval_every = spec.eval_every,
                          .seed = spec.seed,
                          .show_progress = spec.show_progress,
                          .label = name};
  curve.diverged_at = run_training_loop(trainer, train, loop, [&](const EvalPoint& at) {
    curve.steps.push_back(at.step);
    curve.acc.push_back(trainer.evaluate(test.images, test.labels).accuracy);
    return curve.acc.back();
  });
  return curve;
}

int64_t tenth_of_run(int64_t steps) { return std::max<int64_t>(1, steps / 10); }

report::Series accuracy_series(const Curve& curve, std::string label) {
  report::Series series{.label = std::move(label)};
  for (size_t i = 0; i < curve.steps.size(); ++i) {
    series.x.push_back(static_cast<double>(curve.steps[i]));
    series.y.push_back(curve.acc[i]);
  }
  return series;
}

Curve mean_curve(const std::vector<Curve>& runs) {
  if (runs.size() == 1) return runs.front();
  Curve mean{.name = runs.front().name};
  size_t longest = 0;
  for (size_t i = 0; i < runs.size(); ++i)
    if (runs[i].steps.size() > runs[longest].steps.size()) longest = i;
  mean.steps = runs[longest].steps;
  mean.acc.assign(mean.steps.size(), 0.0);
  for (const Curve& r : runs) {
    for (size_t i = 0; i < r.acc.size() && i < mean.acc.size(); ++i) mean.acc[i] += r.acc[i];
    if (r.diverged_at >= 0 && (mean.diverged_at < 0 || r.diverged_at < mean.diverged_at))
      mean.diverged_at = r.diverged_at;
  }
  for (double& a : mean.acc) a /= static_cast<double>(runs.size());
  return mean;
}

}  // namespace bnorm::experiments
