// oneDNN (v2 API, 2.6) in-process, in two declarations of the same problem:
//  - plain: the problem's own layout (nc, nchw, nhwc);
//  - best: what oneDNN's fast kernels need. N x C becomes N x C x 1 x 1 nhwc (same bytes; plain nc
//    falls back to a slow generic kernel), NCHW becomes blocked nChw16c, nChw8c without AVX-512
//    (different bytes: x and dy are reordered once at prepare, outputs reordered back only for the
//    check; shown, but not an anchor), nhwc already is the best and is not repeated.
// oneDNN keeps no running statistics; its 2.6 backward wants the shift argument even unused.
// Built without oneDNN, the contender reports itself missing.
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "cold_cache.hpp"
#include "contender.hpp"
#include "timer.hpp"

#ifdef BNORM_BENCH_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace bnorm::bench {
namespace {

#ifdef BNORM_BENCH_HAVE_DNNL

using dnnl::memory;
using Tag = memory::format_tag;

class OneDnnContender final : public Contender {
 public:
  OneDnnContender(bool best_layout, int cold_mib) : best_(best_layout), flusher_(cold_mib) {}

  std::string name() const override { return best_ ? "onednn-best" : "onednn"; }
  std::string missing_reason() const override { return {}; }
  std::string details() const override {
    const dnnl_version_t* v = dnnl_version();
    return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
           std::to_string(v->patch) +
           (best_ ? std::string(", nc as nx1x1 nhwc, nchw as ") +
                        (blocked_tag() == Tag::nChw16c ? "nChw16c" : "nChw8c")
                  : "");
  }
  std::string kernel_name() const override { return impl_; }
  bool same_memory_layout() const override { return !blocked_; }

  bool prepare(const Problem& p) override {
    release();
    if (p.dtype != DType::kFloat32) return false;  // float32 only here
    p_ = &p;
    const memory::dims d(p.shape.dims.begin(), p.shape.dims.end());
    Tag tag = Tag::nchw;
    memory::dims dims = d;
    blocked_ = false;
    switch (p.layout) {
      case Layout::kNC:
        tag = best_ ? Tag::nhwc : Tag::nc;
        if (best_) dims = {d[0], d[1], 1, 1};
        break;
      case Layout::kChannelsFirst:
        blocked_ = best_;
        tag = best_ ? blocked_tag() : Tag::nchw;
        break;
      case Layout::kChannelsLast:
        if (best_) return false;  // the plain declaration is already oneDNN's best
        tag = Tag::nhwc;
        break;
    }
    data_md_ = memory::desc(dims, memory::data_type::f32, tag);
    const memory::desc& data_md = data_md_;
    // The problem's own bytes, as oneDNN sees them: differs from data_md only when blocked.
    user_md_ = blocked_ ? memory::desc(dims, memory::data_type::f32, Tag::nchw) : data_md;
    const memory::desc stat_md({p.channels()}, memory::data_type::f32, Tag::x);

    auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
    const auto fwd_kind = p.op == Op::kForwardInfer ? dnnl::prop_kind::forward_inference
                                                    : dnnl::prop_kind::forward_training;
    const auto fwd_flags =
        p.op == Op::kForwardInfer ? flags | dnnl::normalization_flags::use_global_stats : flags;
    const dnnl::batch_normalization_forward::primitive_desc fwd_pd(
        {fwd_kind, data_md, static_cast<float>(p.eps), fwd_flags}, engine_);

    src_ = from_user(p.x);
    scale_ = copy_of(stat_md, p.gamma);
    shift_ = copy_of(stat_md, p.beta);
    args_ = {{DNNL_ARG_SRC, src_}, {DNNL_ARG_SCALE, scale_}, {DNNL_ARG_SHIFT, shift_}};
    if (p.op == Op::kBackward) {
      // Batch statistics of the forward: mean and biased variance (oneDNN forms invstd itself).
      std::vector<float> mean(p.save_mean.begin(), p.save_mean.end()), var(mean.size());
      for (size_t i = 0; i < var.size(); ++i) {
        var[i] = static_cast<float>(1.0 / (p.save_invstd[i] * p.save_invstd[i]) - p.eps);
      }
      const dnnl::batch_normalization_backward::primitive_desc bwd_pd(
          {dnnl::prop_kind::backward, data_md, data_md, static_cast<float>(p.eps), flags}, engine_,
          fwd_pd);
      out_ = memory(data_md, engine_);
      diff_scale_ = memory(stat_md, engine_);
      diff_shift_ = memory(stat_md, engine_);
      args_.insert({{DNNL_ARG_MEAN, copy_of(stat_md, mean)},
                    {DNNL_ARG_VARIANCE, copy_of(stat_md, var)},
                    {DNNL_ARG_DIFF_DST, from_user(p.dy)},
                    {DNNL_ARG_DIFF_SRC, out_},
                    {DNNL_ARG_DIFF_SCALE, diff_scale_},
                    {DNNL_ARG_DIFF_SHIFT, diff_shift_}});
      primitive_ = dnnl::batch_normalization_backward(bwd_pd);
      impl_ = bwd_pd.impl_info_str();
    } else {
      out_ = memory(data_md, engine_);
      const bool infer = p.op == Op::kForwardInfer;
      args_.insert(
          {{DNNL_ARG_DST, out_},
           {DNNL_ARG_MEAN, infer ? copy_of(stat_md, p.running_mean) : memory(stat_md, engine_)},
           {DNNL_ARG_VARIANCE,
            infer ? copy_of(stat_md, p.running_var) : memory(stat_md, engine_)}});
      primitive_ = dnnl::batch_normalization_forward(fwd_pd);
      impl_ = fwd_pd.impl_info_str();
    }
    std::memset(out_.get_data_handle(), 0, out_.get_desc().get_size());  // fault pages in now
    return true;
  }

  // oneDNN's OpenMP runtime follows omp_set_num_threads, which the runner sets.
  void set_threads(int) override {}

  Outputs check() override {
    execute();
    // The output in the problem's own layout: as is, or reordered back from blocked.
    memory user(user_md_, engine_);
    if (blocked_) {
      dnnl::reorder(out_, user).execute(stream_, out_, user);
      stream_.wait();
    } else {
      user = out_;
    }
    Outputs o;
    if (p_->op == Op::kBackward) {
      o.dx = values_of(user);
      o.dgamma = values_of(diff_scale_);
      o.dbeta = values_of(diff_shift_);
    } else {
      o.y = values_of(user);
    }
    return o;
  }

  double run_us(bool cold) override {
    return time_call_us([&] { execute(); }, cold ? &flusher_ : nullptr);
  }

  void release() override {
    args_.clear();
    primitive_ = {};
    src_ = out_ = scale_ = shift_ = diff_scale_ = diff_shift_ = {};
    p_ = nullptr;
  }

 private:
  void execute() {
    primitive_.execute(stream_, args_);
    stream_.wait();
  }

  // A oneDNN-owned copy of the problem's x or dy in the declared layout.
  memory from_user(const std::vector<float>& values) {
    memory m(data_md_, engine_);
    if (blocked_) {
      memory user(user_md_, engine_, const_cast<float*>(values.data()));
      dnnl::reorder(user, m).execute(stream_, user, m);
      stream_.wait();
    } else {
      std::memcpy(m.get_data_handle(), values.data(), values.size() * sizeof(float));
    }
    return m;
  }
  memory copy_of(const memory::desc& md, const std::vector<float>& values) {
    memory m(md, engine_);
    std::memcpy(m.get_data_handle(), values.data(), values.size() * sizeof(float));
    return m;
  }
  static std::vector<float> values_of(const memory& m) {
    const auto* v = static_cast<const float*>(m.get_data_handle());
    return {v, v + m.get_desc().get_size() / sizeof(float)};
  }

  // oneDNN's jit kernels block channels by the vector width: 16 floats with AVX-512, 8 with AVX2
  // (nChw16c on an AVX2 machine falls back to its reference kernel).
  static Tag blocked_tag() {
    return __builtin_cpu_supports("avx512f") ? Tag::nChw16c : Tag::nChw8c;
  }

  bool best_;
  bool blocked_ = false;
  dnnl::engine engine_{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream_{engine_};
  const Problem* p_ = nullptr;
  memory::desc user_md_, data_md_;
  memory src_, out_, scale_, shift_, diff_scale_, diff_shift_;
  std::unordered_map<int, memory> args_;
  dnnl::primitive primitive_;
  std::string impl_;
  CacheFlusher flusher_;
};

#endif

}  // namespace

std::unique_ptr<Contender> make_onednn_contender(bool best_layout, int cold_mib) {
#ifdef BNORM_BENCH_HAVE_DNNL
  return std::make_unique<OneDnnContender>(best_layout, cold_mib);
#else
  (void)cold_mib;
  return make_missing_contender(best_layout ? "onednn-best" : "onednn",
                                "oneDNN was not found when bnorm was configured (install "
                                "libdnnl-dev and ocl-icd-opencl-dev, then reconfigure)");
#endif
}

}  // namespace bnorm::bench
