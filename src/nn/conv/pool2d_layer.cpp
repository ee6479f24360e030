// Pool2dLayer and Flatten: shape bookkeeping around pool2d.hpp's kernels.
#include "nn/conv/pool2d_layer.hpp"

#include <algorithm>

#include "check.hpp"

namespace bnorm::nn {

Pool2dLayer::Pool2dLayer(const Pool2dOptions& options) : options_(options) {
  check_pool2d_shape(shape_for(1));
}

Pool2dShape Pool2dLayer::shape_for(int64_t batch) const {
  return {.n = batch,
          .c = options_.in.c,
          .h = options_.in.h,
          .w = options_.in.w,
          .size = options_.size,
          .stride = options_.stride};
}

ImageShape Pool2dLayer::out_shape() const {
  const Pool2dShape s = shape_for(1);
  return {.c = s.c, .h = s.out_h(), .w = s.out_w()};
}

int64_t Pool2dLayer::out_features(int64_t in_features) const {
  detail::check(in_features == options_.in.numel(), "Pool2dLayer", "expected ", options_.in.numel(),
                " input features (", options_.in.c, "x", options_.in.h, "x", options_.in.w,
                "), got ", in_features);
  return out_shape().numel();
}

void Pool2dLayer::forward(const Tensor& in, Tensor& out, Phase /*phase*/) {
  const Pool2dShape s = shape_for(in.rows());
  if (options_.pool == PoolKind::kMax) {
    argmax_.resize(static_cast<size_t>(s.out_numel()));
    max_pool2d_forward(s, in.span(), out.span(), argmax_);
  } else {
    avg_pool2d_forward(s, in.span(), out.span());
  }
}

void Pool2dLayer::backward(const Tensor& in, const Tensor& /*out*/, const Tensor& dout,
                           Tensor* din) {
  if (din == nullptr) return;  // no parameters: nothing else to compute
  const Pool2dShape s = shape_for(in.rows());
  if (options_.pool == PoolKind::kMax) {
    max_pool2d_backward(s, dout.span(), argmax_, din->span());
  } else {
    avg_pool2d_backward(s, dout.span(), din->span());
  }
}

void Flatten::forward(const Tensor& in, Tensor& out, Phase /*phase*/) {
  std::copy(in.span().begin(), in.span().end(), out.span().begin());
}

void Flatten::backward(const Tensor& /*in*/, const Tensor& /*out*/, const Tensor& dout,
                       Tensor* din) {
  if (din != nullptr) std::copy(dout.span().begin(), dout.span().end(), din->span().begin());
}

}  // namespace bnorm::nn
