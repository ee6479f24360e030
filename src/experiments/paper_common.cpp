// The shared training loop and bookkeeping of the paper experiments.
#include "experiments/paper_common.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <optional>
#include <utility>

#include "bnorm/error.hpp"
#include "data/batch_iterator.hpp"
#include "nn/progress.hpp"
#include "optim/classifier_trainer.hpp"

namespace bnorm::experiments {

void require(bool ok, const std::string& id, const std::string& what) {
  if (!ok) throw Error("[paper " + id + "] " + what);
}

std::string fmt(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

std::string gap_text(double reference_minus_model_pp) {
  return fmt("%.2f", std::abs(reference_minus_model_pp)) +
         (reference_minus_model_pp < 0 ? " pp above" : " pp below");
}

Curve train_curve(const std::string& name, nn::Sequential& net, const TrainSpec& spec,
                  const data::Dataset& train, const data::Dataset& test) {
  require(spec.steps > 0 && spec.eval_every > 0, name,
          "steps and eval cadence must be positive, got " + std::to_string(spec.steps) + " and " +
              std::to_string(spec.eval_every));
  require(spec.batch > 1 && spec.batch <= train.count, name,
          "batch must be in [2, " + std::to_string(train.count) + "], got " +
              std::to_string(spec.batch));
  require(spec.decay_over_run > 0 && spec.decay_over_run <= 1, name,
          "decay over the run must be in (0, 1], got " + fmt("%g", spec.decay_over_run));
  optim::Sgd sgd(net.parameters(), spec.sgd);
  const double gamma = std::pow(spec.decay_over_run, 1.0 / static_cast<double>(spec.steps));
  optim::ClassifierTrainer trainer(net, sgd, optim::LrSchedule::exponential(spec.sgd.lr, gamma),
                                   {.eval_batch = spec.eval_batch});
  data::BatchIterator batches(train, spec.batch, spec.seed, /*binarize=*/false);
  std::vector<float> x(static_cast<size_t>(spec.batch * train.features));
  std::vector<int32_t> y(static_cast<size_t>(spec.batch));

  Curve curve{.name = name};
  auto evaluate = [&](int64_t step) {
    curve.steps.push_back(step);
    curve.acc.push_back(trainer.evaluate(test.images, test.labels).accuracy);
  };
  std::optional<nn::Progress> progress;
  if (spec.show_progress) progress.emplace(nn::ProgressOptions{.label = name, .total = spec.steps});
  evaluate(0);
  for (int64_t step = 1; step <= spec.steps; ++step) {
    batches.next_into(x, y);
    const double loss = trainer.train_step(x, y);
    if (!std::isfinite(loss)) {
      curve.diverged_at = step;
      break;
    }
    if (step % spec.eval_every == 0 || step == spec.steps) {
      evaluate(step);
      if (progress) progress->update(step, fmt("test acc %.2f%%", 100 * curve.acc.back()));
    }
  }
  if (progress) {
    progress->finish(curve.diverged_at >= 0
                         ? "diverged at step " + std::to_string(curve.diverged_at)
                         : fmt("test acc %.2f%%", 100 * curve.final_acc()));
  }
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

Spread spread_of(const std::vector<double>& v) {
  Spread s;
  if (v.empty()) return s;
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  if (v.size() > 1) {
    double ss = 0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.sd = std::sqrt(ss / static_cast<double>(v.size() - 1));
  }
  return s;
}

std::string format_accuracy(const Spread& s, int n) {
  if (n <= 1) return fmt("%.2f%%", 100 * s.mean);
  return fmt("%.2f%%", 100 * s.mean) + fmt(" +- %.2f", 100 * s.sd) + " (n=" + std::to_string(n) +
         ")";
}

data::Dataset head(const data::Dataset& d, int64_t limit) {
  if (limit <= 0 || limit >= d.count) return d;
  data::Dataset out{.name = d.name, .count = limit, .features = d.features};
  out.images.assign(d.images.begin(), d.images.begin() + limit * d.features);
  out.labels.assign(d.labels.begin(), d.labels.begin() + limit);
  return out;
}

int64_t steps_for(const PaperSettings& s, int64_t quick, int64_t full) {
  if (s.steps > 0) return s.steps;
  return s.quick ? quick : full;
}

int seeds_for(const PaperSettings& s, int fallback) { return s.seeds > 0 ? s.seeds : fallback; }

}  // namespace bnorm::experiments
