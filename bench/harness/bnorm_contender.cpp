// bnorm as a contender: the public functional API (include/bnorm/functional.hpp) with
// Backend::kAuto, so the benchmark times whatever kernel dispatch selects. Training forward also
// updates running statistics (O(C), as PyTorch does) so the ops compare like for like. bfloat16
// problems run the bfloat16 overloads on copies of x and dy made at prepare. bnorm-<isa> makes the
// same calls with that ISA forced on the calling thread (kernels::ScopedCpuIsa, as
// BNORM_CPU_ISA=<isa> does for a process), so the default dispatch is timed against each ISA in
// the same run with the same API overhead.
#include <cmath>
#include <optional>
#include <string>
#include <type_traits>

#include "bnorm/functional.hpp"
#include "cold_cache.hpp"
#include "contender.hpp"
#include "kernels/kernels.hpp"
#include "timer.hpp"

namespace bnorm::bench {
namespace {

class BnormContender final : public Contender {
 public:
  BnormContender(int cold_mib, std::optional<kernels::CpuIsa> forced_isa)
      : forced_isa_(forced_isa), flusher_(cold_mib) {}

  std::string name() const override {
    return forced_isa_ ? "bnorm-" + isa_name() : std::string("bnorm");
  }
  std::string missing_reason() const override {
    if (!forced_isa_ || kernels::cpu_supports(*forced_isa_)) return {};
    return "this CPU has no " + isa_name();
  }
  std::string details() const override {
    if (!forced_isa_) return {};
    return "bnorm with " + isa_name() +
           " forced on the calling thread (as BNORM_CPU_ISA=" + isa_name() + "); not an anchor";
  }
  // bnorm-<isa> is bnorm itself: a number for bnorm to match, not one to beat.
  bool anchor() const override { return !forced_isa_; }
  std::string kernel_name() const override { return kernel_; }

  bool prepare(const Problem& problem) override {
    return with_forced_isa([&] { return prepare_forced(problem); });
  }

  // Optimized kernels use OpenMP; the runner sets omp_set_num_threads for in-process contenders.
  void set_threads(int) override {}

  Outputs check() override {
    with_forced_isa([&] { bf16_ ? call_bf16() : call(); });
    if (bf16_) {
      std::vector<float>& out = p_->op == Op::kBackward ? out_.dx : out_.y;
      for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(out16_[i]);
    }
    return out_;
  }

  // The ISA is forced before the clock starts; the timed call is the same as bnorm's.
  double run_us(bool cold) override {
    return with_forced_isa([&] {
      if (bf16_) return time_call_us([&] { call_bf16(); }, cold ? &flusher_ : nullptr);
      return time_call_us([&] { call(); }, cold ? &flusher_ : nullptr);
    });
  }

  void release() override {
    out_ = {};
    x16_ = {}, dy16_ = {}, out16_ = {};
    p_ = nullptr;
  }

 private:
  std::string isa_name() const { return std::string(kernels::to_string(*forced_isa_)); }

  // f() with forced_isa_ forced on this thread (the one that makes the calls), if there is one.
  template <typename F>
  std::invoke_result_t<F> with_forced_isa(F&& f) {
    if (!forced_isa_) return f();
    const kernels::ScopedCpuIsa forced(*forced_isa_);
    return f();
  }

  bool prepare_forced(const Problem& problem) {
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
    bf16_ = problem.dtype == DType::kBfloat16;
    if (bf16_) {
      x16_ = to_bf16(problem.x);
      dy16_ = to_bf16(problem.dy);
      out16_.assign(numel, bfloat16{});
    }
    kernel_ = bf16_ ? selected_kernel_name<bfloat16>(problem.desc(), Backend::kAuto)
                    : selected_kernel_name<float>(problem.desc(), Backend::kAuto);
    return true;
  }

  static std::vector<bfloat16> to_bf16(const std::vector<float>& v) {
    std::vector<bfloat16> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) out[i] = bfloat16(v[i]);
    return out;
  }

  void call_bf16() {
    const Problem& p = *p_;
    const TensorDesc desc = p.desc();
    switch (p.op) {
      case Op::kForwardTrain:
        batch_norm_forward_train(x16_, desc, p.gamma, p.beta, p.eps, out16_, moments_);
        update_running_stats<float>(moments_, p.momentum, running_mean_, running_var_);
        break;
      case Op::kForwardInfer:
        batch_norm_forward_infer(x16_, desc, p.running_mean, p.running_var, p.gamma, p.beta, p.eps,
                                 out16_);
        break;
      case Op::kBackward:
        batch_norm_backward(x16_, dy16_, desc, p.save_mean, p.save_invstd, p.gamma,
                            StatsGradient::kThroughBatchStats, out16_, out_.dgamma, out_.dbeta);
        break;
    }
  }

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

  std::optional<kernels::CpuIsa> forced_isa_;  // nullopt: the default dispatch
  const Problem* p_ = nullptr;
  Outputs out_;
  std::vector<Moments> moments_;
  std::vector<float> running_mean_, running_var_;
  bool bf16_ = false;
  std::vector<bfloat16> x16_, dy16_, out16_;  // bfloat16 problems: x, dy and y or dx
  std::string kernel_;
  CacheFlusher flusher_;
};

}  // namespace

std::unique_ptr<Contender> make_bnorm_contender(int cold_mib,
                                                std::optional<kernels::CpuIsa> forced_isa) {
  return std::make_unique<BnormContender>(cold_mib, forced_isa);
}

}  // namespace bnorm::bench
