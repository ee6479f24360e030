// The interface every timed implementation fulfils: bnorm itself, oneDNN in-process and PyTorch
// in a worker process. The runner prepares a contender for a problem, checks one untimed call
// against the reference, and then asks for single timed calls, interleaved with the others.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernels/kernels.hpp"
#include "problem.hpp"

namespace bnorm::bench {

class Contender {
 public:
  virtual ~Contender() = default;

  // Short name used in the table and JSON, e.g. "torch-avx512".
  virtual std::string name() const = 0;
  // Empty when the contender can run; otherwise why it is missing (reported, never dropped).
  virtual std::string missing_reason() const = 0;
  // Version and kernel details for the report, e.g. "torch 1.13.0a0, AVX2".
  virtual std::string details() const { return {}; }
  // Which process it runs in: the runner lets OpenMP pools of the other process go idle before
  // switching between processes.
  virtual int process() const { return 0; }

  // Takes the problem's data. Returns false when the contender does not apply to this problem
  // (e.g. a blocked layout for a 2-D input); the row then reports it as n/a. Problem outlives
  // every call until the next prepare.
  virtual bool prepare(const Problem& problem) = 0;
  // Sets the thread count for the calls that follow.
  virtual void set_threads(int threads) = 0;
  // One untimed call; returns its outputs in the problem's layout for verification.
  virtual Outputs check() = 0;
  // One timed call in microseconds. cold: caches flushed first (not timed).
  virtual double run_us(bool cold) = 0;
  // Kernel name for the current problem, when the contender has one (bnorm's dispatch).
  virtual std::string kernel_name() const { return {}; }
  // Whether the prepared problem sits in memory exactly as the problem's layout says. A contender
  // that timed a different layout (oneDNN's blocked nChw16c) is shown but is not an anchor.
  virtual bool same_memory_layout() const { return true; }
  // Whether its time counts towards the number to beat (best_anchor_us, onednn_us): another
  // implementation on the same bytes. Not bnorm with a forced ISA, which is bnorm itself.
  virtual bool anchor() const { return same_memory_layout(); }
  // Drops the problem's buffers.
  virtual void release() {}
};

// bnorm through its public API; forced_isa: "bnorm-<isa>", every call with that ISA forced on the
// calling thread (kernels::ScopedCpuIsa), missing where the CPU lacks it.
std::unique_ptr<Contender> make_bnorm_contender(
    int cold_mib, std::optional<kernels::CpuIsa> forced_isa = std::nullopt);

// oneDNN in-process. best_layout: the layout oneDNN is fastest on (N x C as N x C x 1 x 1 nhwc,
// NCHW as blocked nChw16c); not applicable where the plain layout already is the best (nhwc).
std::unique_ptr<Contender> make_onednn_contender(bool best_layout, int cold_mib);

// PyTorch in a worker process started from `python` running `worker_script`; capability is the
// value of ATEN_CPU_CAPABILITY for it ("" for the default kernels).
std::unique_ptr<Contender> make_torch_contender(const std::string& python,
                                                const std::string& worker_script,
                                                const std::string& capability, int cold_mib,
                                                int process_id);

// A contender that is not there (not installed, or left out by an option): it appears in every
// row as missing, so a reader sees it was not measured rather than not considered.
std::unique_ptr<Contender> make_missing_contender(const std::string& name,
                                                  const std::string& reason);

}  // namespace bnorm::bench
