// The table of `bnorm paper` experiments: ids, datasets and drivers.
#include <algorithm>
#include <cctype>
#include <string>

#include "bnorm/error.hpp"
#include "experiments/paper_experiments.hpp"

namespace bnorm::experiments {
namespace {

using Driver = ExperimentResult (*)(const PaperSettings&, const data::Dataset&,
                                    const data::Dataset&);
struct Entry {
  std::string_view id;
  std::string_view dataset;
  Driver run;
};

// The MLP experiments use the paper's MNIST (Section 4.1); the conv net uses Fashion-MNIST.
constexpr Entry kExperiments[] = {
    {"E1", "mnist", run_e1_seeds},  // first: Figure 1 is the paper's first claim
    {"E2", "mnist", run_e2_lr_sweep},       {"E3", "fashion", run_e3_fig3},
    {"E4", "mnist", run_e4_deep_sigmoid},   {"E5", "mnist", run_e5_init_scale},
    {"E9", "mnist", run_e9_stats_gradient}, {"E11", "mnist", run_e11_population},
};

const Entry& find(std::string_view id) {
  std::string upper(id);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  for (const Entry& e : kExperiments)
    if (e.id == upper) return e;
  std::string valid;
  for (const Entry& e : kExperiments) valid += (valid.empty() ? "" : ", ") + std::string(e.id);
  throw Error("[paper] unknown experiment '" + std::string(id) + "'; valid ids: " + valid);
}

}  // namespace

std::vector<std::string_view> paper_experiment_ids() {
  std::vector<std::string_view> ids;
  for (const Entry& e : kExperiments) ids.push_back(e.id);
  return ids;
}

std::string_view paper_dataset(std::string_view id) { return find(id).dataset; }

ExperimentResult run_paper_experiment(std::string_view id, const PaperSettings& s,
                                      const data::Dataset& train, const data::Dataset& test) {
  require(s.threads >= 1, std::string(id),
          "threads must be >= 1, got " + std::to_string(s.threads));
  require(s.jobs >= 1, std::string(id), "jobs must be >= 1, got " + std::to_string(s.jobs));
  require(s.seeds >= 0, std::string(id), "seeds must be >= 1, got " + std::to_string(s.seeds));
  require(s.batch >= 2, std::string(id), "batch must be >= 2, got " + std::to_string(s.batch));
  return find(id).run(s, train, test);
}

}  // namespace bnorm::experiments
