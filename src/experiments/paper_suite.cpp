// The table of `bnorm paper` experiments: ids, datasets and drivers.
#include <algorithm>
#include <cctype>
#include <string>
#include <utility>

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
    {"E1", "mnist", run_e1_seeds},
    {"E2", "mnist", run_e2_lr_sweep},
    {"E3", "fashion", run_e3_fig3},
    {"E4", "mnist", run_e4_deep_sigmoid},
    {"E5", "mnist", run_e5_init_scale},
    {"E5b", "mnist", run_e5b_gradient_scale},
    {"E6-MLP", "mnist", run_e6_renorm_mlp},
    {"E6-CNN", "fashion", run_e6_renorm_cnn},
    {"E7", "mnist", run_e7_ghost},
    {"E8", "mnist", run_e8_noisy_bn},
    {"E9a", "mnist", run_e9a_mean_only_bias},
    {"E9b", "mnist", run_e9_stats_gradient},
    {"E10", "mnist", run_e10_dropout},
    {"E11", "mnist", run_e11_population},
    {"E12", "mnist", run_e12_jacobian},
};

// The experiments that train data-parallel under mpirun (PaperSettings::comm): the paper's CNN.
// The others train several networks side by side or read per-process state, and refuse.
constexpr std::string_view kDataParallel[] = {"E3"};

// Ids renamed since they were published: old id, new id.
constexpr std::pair<std::string_view, std::string_view> kAliases[] = {{"E9", "E9b"}};

std::string upper_case(std::string_view text) {
  std::string upper(text);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return upper;
}

const Entry& find(std::string_view id) {
  std::string upper = upper_case(id);
  for (const auto& [old_id, new_id] : kAliases)
    if (upper_case(old_id) == upper) upper = upper_case(new_id);
  for (const Entry& e : kExperiments)
    if (upper_case(e.id) == upper) return e;
  std::string valid;
  for (const Entry& e : kExperiments) valid += (valid.empty() ? "" : ", ") + std::string(e.id);
  throw Error("[paper] unknown experiment '" + std::string(id) + "'; valid ids: " + valid);
}

std::string data_parallel_ids() {
  std::string ids;
  for (std::string_view id : kDataParallel) ids += (ids.empty() ? "" : ", ") + std::string(id);
  return ids;
}

}  // namespace

std::vector<std::string_view> paper_experiment_ids() {
  std::vector<std::string_view> ids;
  for (const Entry& e : kExperiments) ids.push_back(e.id);
  return ids;
}

std::vector<std::string_view> paper_experiment_aliases() {
  std::vector<std::string_view> ids;
  for (const auto& alias : kAliases) ids.push_back(alias.first);
  return ids;
}

std::string_view paper_dataset(std::string_view id) { return find(id).dataset; }

bool paper_data_parallel(std::string_view id) {
  const std::string_view found = find(id).id;
  return std::find(std::begin(kDataParallel), std::end(kDataParallel), found) !=
         std::end(kDataParallel);
}

ExperimentResult run_paper_experiment(std::string_view id, const PaperSettings& s,
                                      const data::Dataset& train, const data::Dataset& test) {
  require(s.threads >= 1, std::string(id),
          "threads must be >= 1, got " + std::to_string(s.threads));
  require(s.jobs >= 1, std::string(id), "jobs must be >= 1, got " + std::to_string(s.jobs));
  require(s.seeds >= 0, std::string(id), "seeds must be >= 1, got " + std::to_string(s.seeds));
  require(s.batch >= 2, std::string(id), "batch must be >= 2, got " + std::to_string(s.batch));
  require(s.comm == nullptr || paper_data_parallel(id), std::string(id),
          "expected one process (it does not train data-parallel), got a launcher job of " +
              std::to_string(s.comm == nullptr ? 1 : s.comm->size()) +
              " ranks: run it without mpirun, or run " + data_parallel_ids() + " under mpirun");
  return find(id).run(s, train, test);
}

}  // namespace bnorm::experiments
