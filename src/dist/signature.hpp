// The agreement check synchronized BatchNorm makes before its first collective: every rank
// all-gathers a fixed-size signature of its problem, so ranks that disagree (channels, layout,
// dtype, options) or whose input is invalid all throw instead of waiting in a collective of a
// different size.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "bnorm/batch_norm.hpp"
#include "bnorm/communicator.hpp"
#include "bnorm/layout.hpp"

namespace bnorm::dist {

enum Field : int {
  kOp,     // which call (forward / backward): ranks must make the same call
  kDtype,  // sizeof(T)
  kLayout,
  kRank,      // number of dims
  kChannels,  // dims[1]
  kSpatial0,  // dims[2], dims[3], dims[4] (0 when absent)
  kSpatial1,
  kSpatial2,
  kSpatialAll,  // product of every spatial dim
  kEps,
  kAffine,
  kActivation,
  kMomentum,  // -1: cumulative average; -2: not a module call
  kTrackRunningStats,
  kMode,
  kGradientThroughStats,
  kGlobalCount,  // backward: values per channel in the global batch
  kLocalOk,      // 1 when this rank's own input passed its checks
  kFieldCount,
};

using Signature = std::array<double, kFieldCount>;

// The fields a call can fill from its problem; module fields are -2 until set_module_fields.
// desc may be invalid (its fields then read -1).
Signature make_signature(int op, int dtype_size, const TensorDesc& desc, double eps, bool affine,
                         Activation activation);
void set_module_fields(Signature& sig, const BatchNormOptions& options, Mode mode);

// All-gathers sig over comm and throws bnorm::Error "[op] expected ..., got rank r: ..." on every
// rank when any rank's check failed (local_error: this rank's message, "" if it passed) or the
// ranks' signatures differ. Returns normally on every rank otherwise.
void agree_or_throw(Communicator& comm, std::string_view op, Signature sig,
                    const std::string& local_error);

// The same check on signatures already gathered: all holds `ranks` blocks of `stride` doubles,
// each opening with that rank's signature (a signature riding along with the data of a collective
// whose size the ranks already agreed on).
void check_gathered(std::string_view op, std::span<const double> all, size_t stride, int ranks,
                    const std::string& local_error);

// Two doubles to append to an all-reduce so that a rank's failed input stops every rank: this
// rank's (1, rank) when local_error is set, else (0, 0). After the sum, check_all_valid throws on
// every rank when any rank failed: that rank its own message, the others one naming it.
std::array<double, 2> validity_of(const Communicator& comm, const std::string& local_error);
void check_all_valid(std::string_view op, std::span<const double> summed_validity,
                     const std::string& local_error);

// Extents of desc where dims[0] may be 0 (a rank with no samples): validated as extents_of.
Extents shard_extents(const TensorDesc& desc, std::string_view op);

}  // namespace bnorm::dist
