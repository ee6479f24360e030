// The agreement check of synchronized BatchNorm (see signature.hpp).
#include "signature.hpp"

#include <cstdint>
#include <iterator>
#include <sstream>
#include <vector>

#include "bnorm/error.hpp"

namespace bnorm::dist {
namespace {

constexpr const char* kFieldNames[] = {
    "the call (1 forward, 2 backward)",
    "dtype (bytes per element)",
    "layout",
    "number of dims",
    "channels (dims[1])",
    "dims[2]",
    "dims[3]",
    "dims[4]",
    "spatial size",
    "eps",
    "affine",
    "activation",
    "momentum (-1 cumulative)",
    "track_running_stats",
    "mode",
    "gradient_through_stats",
    "the global batch size per channel",
    "valid input",
};
static_assert(std::size(kFieldNames) == kFieldCount, "one name per signature field");

std::string format_value(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

}  // namespace

Extents shard_extents(const TensorDesc& desc, std::string_view op) {
  if (desc.dims.empty() || desc.dims[0] != 0) return extents_of(desc, op);
  TensorDesc one = desc;  // validate everything else with one sample, then report none
  one.dims[0] = 1;
  Extents e = extents_of(one, op);
  e.n = 0;
  return e;
}

Signature make_signature(int op, int dtype_size, const TensorDesc& desc, double eps, bool affine,
                         Activation activation) {
  Signature sig;
  sig.fill(-2.0);
  sig[kOp] = op;
  sig[kDtype] = dtype_size;
  sig[kLayout] = static_cast<double>(desc.layout);
  sig[kRank] = static_cast<double>(desc.dims.size());
  const auto dim = [&](size_t i) {
    return i < desc.dims.size() ? static_cast<double>(desc.dims[i]) : 0.0;
  };
  sig[kChannels] = desc.dims.size() >= 2 ? dim(1) : -1.0;
  sig[kSpatial0] = dim(2);
  sig[kSpatial1] = dim(3);
  sig[kSpatial2] = dim(4);
  double spatial = 1.0;
  for (size_t i = 2; i < desc.dims.size(); ++i) spatial *= static_cast<double>(desc.dims[i]);
  sig[kSpatialAll] = spatial;
  sig[kEps] = eps;
  sig[kAffine] = affine ? 1.0 : 0.0;
  sig[kActivation] = static_cast<double>(activation);
  sig[kLocalOk] = 1.0;
  return sig;
}

void set_module_fields(Signature& sig, const BatchNormOptions& options, Mode mode) {
  sig[kMomentum] = options.momentum ? *options.momentum : -1.0;
  sig[kTrackRunningStats] = options.track_running_stats ? 1.0 : 0.0;
  sig[kMode] = static_cast<double>(mode);
  sig[kGradientThroughStats] = options.gradient_through_stats ? 1.0 : 0.0;
}

void agree_or_throw(Communicator& comm, std::string_view op, Signature sig,
                    const std::string& local_error) {
  sig[kLocalOk] = local_error.empty() ? 1.0 : 0.0;
  std::vector<double> all(static_cast<size_t>(comm.size()) * kFieldCount);
  comm.all_gather(sig, all);
  check_gathered(op, all, kFieldCount, comm.size(), local_error);
}

void check_gathered(std::string_view op, std::span<const double> all, size_t stride, int ranks,
                    const std::string& local_error) {
  const auto at = [&](int r, int f) { return all[static_cast<size_t>(r) * stride + f]; };
  // A rank whose own input failed: it reports why, the others name it.
  for (int r = 0; r < ranks; ++r) {
    if (at(r, kLocalOk) == 1.0) continue;
    if (!local_error.empty()) throw Error(local_error);
    throw Error(std::string("[") + std::string(op) + "] expected valid input on every rank, got " +
                "rank " + std::to_string(r) + " rejecting its input (that rank's error says why)");
  }
  for (int f = 0; f < kFieldCount; ++f) {
    bool same = true;
    for (int r = 1; r < ranks; ++r) same = same && at(r, f) == at(0, f);
    if (same) continue;
    std::string got;
    for (int r = 0; r < ranks; ++r) {
      got += (r ? ", rank " : "rank ") + std::to_string(r) + ": " + format_value(at(r, f));
    }
    throw Error(std::string("[") + std::string(op) + "] expected every rank to agree on " +
                kFieldNames[f] + ", got " + got +
                " (build every rank's module with the same options and shapes)");
  }
}

std::array<double, 2> validity_of(const Communicator& comm, const std::string& local_error) {
  if (local_error.empty()) return {0.0, 0.0};
  return {1.0, static_cast<double>(comm.rank())};
}

void check_all_valid(std::string_view op, std::span<const double> summed_validity,
                     const std::string& local_error) {
  const double failed = summed_validity[0];
  if (failed == 0.0) return;
  if (!local_error.empty()) throw Error(local_error);
  // One failing rank: the sum of ranks is its rank; more: say how many.
  const std::string who = failed == 1.0
                              ? "rank " + std::to_string(static_cast<int64_t>(summed_validity[1])) +
                                    " rejecting its input (that rank's error says why)"
                              : std::to_string(static_cast<int64_t>(failed)) +
                                    " ranks rejecting their input (their errors say why)";
  throw Error(std::string("[") + std::string(op) + "] expected valid input on every rank, got " +
              who);
}

}  // namespace bnorm::dist
