// Builds the conv net stage by stage, threading the image geometry from layer to layer.
#include "nn/conv/cnn.hpp"

#include "check.hpp"
#include "nn/activations.hpp"
#include "nn/batch_norm_layer.hpp"
#include "nn/conv/channel_batch_norm_layer.hpp"
#include "nn/conv/conv2d_layer.hpp"
#include "nn/conv/pool2d_layer.hpp"
#include "nn/dropout.hpp"
#include "nn/linear.hpp"
#include "nn/random.hpp"

namespace bnorm::nn {
namespace {

constexpr uint64_t kDropoutStream = 1000;

void add_activation(Sequential& net, Nonlinearity activation) {
  if (activation == Nonlinearity::kSigmoid) {
    net.emplace<Sigmoid>();
  } else {
    net.emplace<ReLU>();
  }
}

}  // namespace

Sequential build_cnn(const CnnOptions& o) {
  detail::check(o.input.numel() > 0 && o.hidden > 0 && o.classes > 0 && !o.channels.empty(),
                "build_cnn", "expected positive input extents, hidden units, classes and at least",
                " one conv stage, got input ", o.input.c, "x", o.input.h, "x", o.input.w,
                ", hidden ", o.hidden, ", classes ", o.classes, ", ", o.channels.size(), " stages");
  const BatchNormOptions bn{.eps = o.bn_eps,
                            .momentum = o.bn_momentum,
                            .gradient_through_stats = o.bn_gradient_through_stats};
  Sequential net(o.input.numel());
  ImageShape shape = o.input;
  uint64_t stream = 0;
  for (int64_t k : o.channels) {
    auto& conv = net.emplace<Conv2dLayer>(Conv2dOptions{
        .in = shape, .out_channels = k, .kernel = 3, .stride = 1, .pad = 1, .bias = !o.batch_norm});
    init_weight(conv.weight(), shape.c * 9, k, o.init, derive_seed(o.seed, stream++));
    shape = conv.out_shape();
    if (o.batch_norm) net.emplace<ChannelBatchNormLayer>(shape, bn, o.bn_normalization);
    add_activation(net, o.activation);
    shape =
        net.emplace<Pool2dLayer>(Pool2dOptions{.in = shape, .pool = PoolKind::kMax}).out_shape();
  }
  net.emplace<Flatten>();

  auto& fc = net.emplace<Linear>(
      LinearOptions{.in_features = shape.numel(), .out_features = o.hidden, .bias = !o.batch_norm});
  init_weight(fc.weight(), shape.numel(), o.hidden, o.init, derive_seed(o.seed, stream++));
  if (o.batch_norm) {
    BatchNormOptions fc_bn = bn;
    fc_bn.num_features = o.hidden;
    net.emplace<BatchNormLayer>(fc_bn, o.bn_normalization);
  }
  add_activation(net, o.activation);
  if (o.dropout > 0.0) net.emplace<Dropout>(o.dropout, derive_seed(o.seed, kDropoutStream));

  auto& out =
      net.emplace<Linear>(LinearOptions{.in_features = o.hidden, .out_features = o.classes});
  init_weight(out.weight(), o.hidden, o.classes, o.init, derive_seed(o.seed, stream++));
  return net;
}

}  // namespace bnorm::nn
