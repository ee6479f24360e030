// Resolving `bnorm paper`'s settings for one experiment.
#include "experiments/paper_settings.hpp"

#include "bnorm/error.hpp"

namespace bnorm::experiments {

int64_t steps_for(const PaperSettings& s, int64_t quick, int64_t full) {
  if (s.steps > 0) return s.steps;
  return s.quick ? quick : full;
}

int seeds_for(const PaperSettings& s, int fallback) { return s.seeds > 0 ? s.seeds : fallback; }

data::Dataset head(const data::Dataset& d, int64_t limit) {
  if (limit <= 0 || limit >= d.count) return d;
  data::Dataset out{.name = d.name, .count = limit, .features = d.features};
  out.images.assign(d.images.begin(), d.images.begin() + limit * d.features);
  out.labels.assign(d.labels.begin(), d.labels.begin() + limit);
  return out;
}

void require(bool ok, const std::string& id, const std::string& what) {
  if (!ok) throw Error("[paper " + id + "] " + what);
}

}  // namespace bnorm::experiments
