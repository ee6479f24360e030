// Conv2dLayer: sizes the im2col scratch per batch and forwards to conv2d_forward/backward.
#include "nn/conv/conv2d_layer.hpp"

#include "check.hpp"
#include "nn/threads.hpp"

namespace bnorm::nn {

Conv2dLayer::Conv2dLayer(const Conv2dOptions& options) : options_(options) {
  detail::check(options.in.c > 0 && options.in.h > 0 && options.in.w > 0 &&
                    options.out_channels > 0 && options.kernel > 0,
                "Conv2dLayer", "expected positive input extents, channels and kernel, got ",
                options.in.c, "x", options.in.h, "x", options.in.w, ", ", options.out_channels,
                " channels, kernel ", options.kernel);
  check_conv2d_shape(shape_for(1));
  const auto w =
      static_cast<size_t>(options.out_channels * options.in.c * options.kernel * options.kernel);
  weight_.assign(w, 0.0f);
  dweight_.assign(w, 0.0f);
  if (options.bias) {
    bias_.assign(static_cast<size_t>(options.out_channels), 0.0f);
    dbias_.assign(bias_.size(), 0.0f);
  }
}

Conv2dShape Conv2dLayer::shape_for(int64_t batch) const {
  return {.n = batch,
          .c = options_.in.c,
          .h = options_.in.h,
          .w = options_.in.w,
          .k = options_.out_channels,
          .kh = options_.kernel,
          .kw = options_.kernel,
          .stride = options_.stride,
          .pad = options_.pad,
          .batch_blocks = batch_blocks_};
}

ImageShape Conv2dLayer::out_shape() const {
  const Conv2dShape s = shape_for(1);
  return {.c = s.k, .h = s.out_h(), .w = s.out_w()};
}

int64_t Conv2dLayer::out_features(int64_t in_features) const {
  detail::check(in_features == options_.in.numel(), "Conv2dLayer", "expected ", options_.in.numel(),
                " input features (", options_.in.c, "x", options_.in.h, "x", options_.in.w,
                "), got ", in_features);
  return out_shape().numel();
}

void Conv2dLayer::forward(const Tensor& in, Tensor& out, Phase /*phase*/) {
  // One block of images per thread (conv2d.hpp): at one thread the single whole-batch GEMM.
  batch_blocks_ = num_threads();
  const Conv2dShape s = shape_for(in.rows());
  col_.resize(static_cast<size_t>(s.col_rows() * s.col_cols()));
  conv2d_forward(s, in.span(), weight_, bias_, out.span(), col_);
}

void Conv2dLayer::backward(const Tensor& in, const Tensor& /*out*/, const Tensor& dout,
                           Tensor* din) {
  const Conv2dShape s = shape_for(in.rows());
  if (din != nullptr) dcol_.resize(col_.size());
  conv2d_backward(s, dout.span(), weight_, col_, din != nullptr ? din->span() : std::span<float>(),
                  dweight_, dbias_, din != nullptr ? std::span<float>(dcol_) : std::span<float>());
}

std::vector<Parameter> Conv2dLayer::parameters() {
  std::vector<Parameter> p{{.name = "weight", .value = weight_, .grad = dweight_}};
  if (!bias_.empty()) p.push_back({.name = "bias", .value = bias_, .grad = dbias_});
  return p;
}

}  // namespace bnorm::nn
