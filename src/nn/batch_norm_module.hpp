// The BatchNorm an engine layer wraps: a plain bnorm::BatchNorm<float>, Batch Renormalization or
// Ghost BatchNorm (chosen by Normalization), or, after synchronize(), a SyncBatchNorm that
// normalizes with the statistics of the global batch of data-parallel ranks. BatchNormLayer and
// ChannelBatchNormLayer hold one, so both switch the same way.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "bnorm/batch_norm.hpp"
#include "bnorm/batch_renorm.hpp"
#include "bnorm/communicator.hpp"
#include "bnorm/ghost_batch_norm.hpp"
#include "bnorm/sync_batch_norm.hpp"

namespace bnorm::nn {

// What a BN layer computes in training; inference (Phase::kEval) is BatchNorm's with the running
// statistics for all three.
struct Normalization {
  enum class Kind {
    kPlain,   // BatchNorm (Ioffe & Szegedy 2015)
    kRenorm,  // Batch Renormalization (bnorm/batch_renorm.hpp): BatchNormOptions::momentum is its
              // rate alpha; rmax/dmax follow renorm.schedule over the layer's training steps
    kGhost,   // Ghost BatchNorm (bnorm/ghost_batch_norm.hpp) with ghost batches of
              // ghost_batch_size samples
  };
  Kind kind = Kind::kPlain;
  RenormOptions renorm;          // kRenorm only
  int64_t ghost_batch_size = 0;  // kGhost only: > 0

  static Normalization plain() { return {}; }
  static Normalization batch_renorm(RenormSchedule schedule) {
    return {.kind = Kind::kRenorm, .renorm = {.schedule = schedule}};
  }
  static Normalization ghost(int64_t ghost_batch_size) {
    return {.kind = Kind::kGhost, .ghost_batch_size = ghost_batch_size};
  }
};

std::string_view to_string(Normalization::Kind kind);  // "plain", "renorm", "ghost"

class BatchNormModule {
 public:
  // Throws as the chosen module's constructor does (BatchNorm, BatchRenorm, GhostBatchNorm).
  explicit BatchNormModule(const BatchNormOptions& options, const Normalization& norm = {});

  const Normalization& normalization() const { return norm_; }

  // From now on batch modes merge statistics over comm (which must outlive this). Parameters,
  // running statistics and num_batches_tracked carry over; views taken before (module().gamma(),
  // an optimizer's parameters) dangle, so call it before building the optimizer. Plain BatchNorm
  // only: throws for renorm and ghost.
  void synchronize(Communicator& comm);
  bool synchronized() const { return sync_ != nullptr; }

  // The module holding parameters, gradients and running statistics (the synchronized one's local
  // BatchNorm after synchronize(), the renorm or ghost module's base()).
  BatchNorm<float>& module();
  const BatchNorm<float>& module() const;

  void forward(std::span<const float> x, const TensorDesc& desc, std::span<float> y, Mode mode);
  void backward(std::span<const float> x, std::span<const float> dy, std::span<float> dx);

  // The renorm module, or nullptr for another kind (its limits and last r, d for logging).
  BatchRenorm<float>* renorm() { return renorm_.get(); }

 private:
  Normalization norm_;
  std::unique_ptr<BatchNorm<float>> bn_;
  std::unique_ptr<SyncBatchNorm<float>> sync_;
  std::unique_ptr<BatchRenorm<float>> renorm_;
  std::unique_ptr<GhostBatchNorm<float>> ghost_;
};

}  // namespace bnorm::nn
