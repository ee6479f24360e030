// bnorm as a contender: the public functional API (include/bnorm/functional.hpp) with
// Backend::kAuto, so the benchmark times whatever kernel dispatch selects. Training forward also
// updates running statistics (O(C), as PyTorch does) so the ops compare like for like.
#include <cmath>

#include "bnorm/functional.hpp"
#include "cold_cache.hpp"
#include "contender.hpp"
#include "timer.hpp"

namespace bnorm::bench {
namespace {

class BnormContender final : public Contender {
 public:
  explicit BnormContender(int cold_mib) : flusher_(cold_mib) {}

  std::string name() const override { return "bnorm"; }
  std::string missing_reason() const override { return {}; }
  std::string kernel_name() const override { return kernel_; }

  bool prepare(const Problem& problem) override {
    p_ = &problem;
    const size_t numel = problem.x.size(), c = problem.gamma.size();
    out_ = {};
    if (problem.op == Op::kBackward) {
      out_.dx.assign(numel, 0.0f);
      out_.dgamma.assign(c, 0.0f);
      out_.dbeta.assign(c, 0.0f);
    } else {
      out_.y.assign(numel, 0.0f);  // touched now, so no call pays for page faults
    }
    moments_.assign(c, Moments{});
    running_mean_ = problem.running_mean;
    running_var_ = problem.running_var;
    kernel_ = selected_kernel_name<float>(problem.desc(), Backend::kAuto);
    return true;
  }

  // Optimized kernels use OpenMP; the runner sets omp_set_num_threads for in-process contenders.
  void set_threads(int) override {}

  Outputs check() override {
    call();
    return out_;
  }

  double run_us(bool cold) override {
    return time_call_us([&] { call(); }, cold ? &flusher_ : nullptr);
  }

  void release() override {
    out_ = {};
    p_ = nullptr;
  }

 private:
  void call() {
    const Problem& p = *p_;
    const TensorDesc desc = p.desc();
    switch (p.op) {
      case Op::kForwardTrain: {
        batch_norm_forward_train<float>(p.x, desc, p.gamma, p.beta, p.eps, out_.y, moments_);
        update_running_stats<float>(moments_, p.momentum, running_mean_, running_var_);
        break;
      }
      case Op::kForwardInfer:
        batch_norm_forward_infer<float>(p.x, desc, p.running_mean, p.running_var, p.gamma, p.beta,
                                        p.eps, out_.y);
        break;
      case Op::kBackward:
        batch_norm_backward<float>(p.x, p.dy, desc, p.save_mean, p.save_invstd, p.gamma,
                                   StatsGradient::kThroughBatchStats, out_.dx, out_.dgamma,
                                   out_.dbeta);
        break;
    }
  }

  const Problem* p_ = nullptr;
  Outputs out_;
  std::vector<Moments> moments_;
  std::vector<float> running_mean_, running_var_;
  std::string kernel_;
  CacheFlusher flusher_;
};

}  // namespace

std::unique_ptr<Contender> make_bnorm_contender(int cold_mib) {
  return std::make_unique<BnormContender>(cold_mib);
}

}  // namespace bnorm::bench
