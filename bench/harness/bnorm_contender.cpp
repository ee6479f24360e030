// bnorm as a contender: the public functional API (include/bnorm/functional.hpp) with
// Backend::kAuto, so the benchmark times whatever kernel dispatch selects. Training forward also
// updates running statistics (O(C), as PyTorch does) so the ops compare like for like. bfloat16
// problems run the bfloat16 overloads on copies of x and dy made at prepare.
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

  // Optimized kernels use OpenMP; the runner sets omp_set_num_threads for in-process contenders.
  void set_threads(int) override {}

  Outputs check() override {
    bf16_ ? call_bf16() : call();
    if (bf16_) {
      std::vector<float>& out = p_->op == Op::kBackward ? out_.dx : out_.y;
      for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(out16_[i]);
    }
    return out_;
  }

  double run_us(bool cold) override {
    if (bf16_) return time_call_us([&] { call_bf16(); }, cold ? &flusher_ : nullptr);
    return time_call_us([&] { call(); }, cold ? &flusher_ : nullptr);
  }

  void release() override {
    out_ = {};
    x16_ = {}, dy16_ = {}, out16_ = {};
    p_ = nullptr;
  }

 private:
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

std::unique_ptr<Contender> make_bnorm_contender(int cold_mib) {
  return std::make_unique<BnormContender>(cold_mib);
}

}  // namespace bnorm::bench
