// E11, Algorithm 2 of the paper: inference with population statistics (averages over training
// mini-batches with the weights frozen) against the running averages kept during training
// (PyTorch's convention, momentum 0.1). The BN networks of the suite are trained, evaluated with
// their running averages, then with population statistics over one epoch of training batches
// (at most 200), on the same test set. Both networks: the sigmoid MLP with BN (E1's, lr 0.5) and
// the small CNN with BN (E3's BN-x5 recipe). Reproduced when |delta accuracy| <= 0.2 pp for each
// (seed means).
#include <chrono>
#include <cmath>
#include <sstream>

#include "experiments/accuracy_curves.hpp"
#include "experiments/paper_experiments.hpp"
#include "experiments/paper_population.hpp"
#include "experiments/paper_text.hpp"
#include "nn/conv/cnn.hpp"
#include "nn/mlp.hpp"
#include "optim/classifier_trainer.hpp"

namespace bnorm::experiments {
namespace {

struct Net {
  std::string name;
  bool cnn = false;
};

nn::Sequential build(const Net& n, const data::Dataset& train, uint64_t seed) {
  if (n.cnn) {
    const auto side =
        static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(train.features))));
    require(side * side == train.features, "E11",
            "the CNN needs square one-channel images, got " + std::to_string(train.features) +
                " features per image");
    return nn::build_cnn(
        {.input = {.c = 1, .h = side, .w = side}, .batch_norm = true, .seed = seed});
  }
  nn::Mlp mlp = nn::build_mlp({train.features, 100, 100, 100, data::kNumClasses},
                              nn::Nonlinearity::kSigmoid, nn::BnPlacement::kBefore, seed,
                              {.scheme = nn::InitScheme::kGaussian, .sigma = 0.1});
  return std::move(mlp.net());
}

}  // namespace

ExperimentResult run_e11_population(const PaperSettings& s, const data::Dataset& train,
                                    const data::Dataset& test_all) {
  const auto start = std::chrono::steady_clock::now();
  const int64_t mlp_steps = steps_for(s, 1500, 4000);
  // The CNN is ~50x slower per step: fewer steps and seeds keep E11 within minutes.
  const int64_t cnn_steps = steps_for(s, 300, 1000);
  const int mlp_seeds = seeds_for(s, 3), cnn_seeds = seeds_for(s, 2);
  const data::Dataset test = head(test_all, s.test_limit);
  const int64_t pop_batches = std::min<int64_t>(200, std::max<int64_t>(1, train.count / s.batch));

  ExperimentResult r{.id = "E11",
                     .title = "E11: population statistics (Algorithm 2) against running averages",
                     .csv_name = "e11_population.csv"};
  std::ostringstream csv;
  csv << "network,seed,acc_running,acc_population,delta_pp\n";
  std::string measured;
  bool all_reproduced = true;
  for (const Net& n : {Net{.name = "MLP"}, Net{.name = "CNN", .cnn = true}}) {
    std::vector<double> running, population, deltas;
    const int seeds = n.cnn ? cnn_seeds : mlp_seeds;
    const int64_t steps = n.cnn ? cnn_steps : mlp_steps;
    for (int seed = 1; seed <= seeds; ++seed) {
      nn::Sequential net = build(n, train, static_cast<uint64_t>(seed));
      const TrainSpec spec{
          .steps = steps,
          .batch = s.batch,
          .eval_every = steps,
          .sgd = n.cnn ? optim::SgdOptions{.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-4}
                       : optim::SgdOptions{.lr = 0.5},
          .decay_over_run = n.cnn ? 1.0 / 64 : 1.0,
          .seed = static_cast<uint64_t>(seed),
          .eval_batch = 250,
          .show_progress = s.show_progress};
      const Curve c = train_curve("E11 " + n.name, net, spec, train, test);
      require(c.diverged_at < 0, "E11",
              n.name + " seed " + std::to_string(seed) + " diverged at step " +
                  std::to_string(c.diverged_at) + "; no statistics to compare");
      running.push_back(c.final_acc());
      estimate_population_statistics(net, train, s.batch, pop_batches,
                                     static_cast<uint64_t>(1000 + seed));
      optim::Sgd unused(net.parameters(), {.lr = 0});
      optim::ClassifierTrainer eval(net, unused, optim::LrSchedule::constant(0),
                                    {.eval_batch = 250});
      population.push_back(eval.evaluate(test.images, test.labels).accuracy);
      deltas.push_back(100 * (population.back() - running.back()));
      csv << n.name << ',' << seed << ',' << running.back() << ',' << population.back() << ','
          << deltas.back() << '\n';
    }
    const Spread run = spread_of(running), pop = spread_of(population), d = spread_of(deltas);
    const PopulationVerdict v{.acc_running = run.mean, .acc_population = pop.mean};
    all_reproduced = all_reproduced && v.reproduced();
    measured += n.name + ": running " + format_accuracy(run, seeds) + ", population " +
                format_accuracy(pop, seeds) + ", delta " + fmt("%+.2f pp", v.delta_pp()) +
                fmt(" (per-seed deltas from %+.2f", d.min) + fmt(" to %+.2f pp); ", d.max);
  }
  r.csv = csv.str();
  r.notes.push_back(
      "MLP: 784-100-100-100-10 sigmoid with BN, N(0, 0.1^2), SGD lr 0.5. CNN: the "
      "E3 network with BN, He init, SGD lr 0.05 momentum 0.9, L2 1e-4, lr falling "
      "64x over the run. Batch " +
      std::to_string(s.batch) + "; MLP " + std::to_string(mlp_steps) + " steps x " +
      std::to_string(mlp_seeds) + " seed(s), CNN " + std::to_string(cnn_steps) + " steps x " +
      std::to_string(cnn_seeds) + " seed(s); population statistics over " +
      std::to_string(pop_batches) + " training batches; test set of " + std::to_string(test.count) +
      " images (" + train.name + ").");
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.claims.push_back(ClaimResult{
      .id = "E11",
      .claim = "population statistics (Algorithm 2) and running averages give the same accuracy",
      .measured = measured,
      .threshold = "|population - running| <= 0.2 pp for each network",
      .reproduced = all_reproduced,
      .seeds = mlp_seeds,
      .wall_seconds = r.wall_seconds});
  return r;
}

}  // namespace bnorm::experiments
