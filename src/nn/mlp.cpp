// Builds the MLP layer by layer, remembering where each hidden layer's pre-activation lives.
#include "nn/mlp.hpp"

#include "check.hpp"
#include "nn/activations.hpp"
#include "nn/batch_norm_layer.hpp"
#include "nn/dropout.hpp"
#include "nn/linear.hpp"
#include "nn/random.hpp"

namespace bnorm::nn {
namespace {

const MlpOptions& checked(const MlpOptions& o) {
  detail::check(o.sizes.size() >= 2, "build_mlp",
                "expected at least an input and an output size, got ", o.sizes.size(), " sizes");
  for (int64_t s : o.sizes) detail::check(s > 0, "build_mlp", "expected positive sizes, got ", s);
  return o;
}

// Seed streams: Linear i uses stream i, dropout layers use streams after every Linear's.
constexpr uint64_t kDropoutStreamBase = 1000;

}  // namespace

Mlp::Mlp(const MlpOptions& options) : options_(checked(options)), net_(options.sizes.front()) {
  const size_t layers = options.sizes.size() - 1;
  for (size_t i = 0; i < layers; ++i) {
    const bool hidden = i + 1 < layers;
    const bool bn_before = hidden && options.bn == BnPlacement::kBefore;
    const int64_t in = options.sizes[i], out = options.sizes[i + 1];
    auto& linear = net_.emplace<Linear>(LinearOptions{.in_features = in,
                                                      .out_features = out,
                                                      .bias = !bn_before,
                                                      .row_chunk = options.linear_row_chunk});
    init_weight(linear.weight(), in, out, options.init, derive_seed(options.seed, i));
    linear_.push_back(net_.size() - 1);
    if (!hidden) break;

    const BatchNormOptions bn{
        .num_features = out, .eps = options.bn_eps, .momentum = options.bn_momentum};
    if (bn_before) net_.emplace<BatchNormLayer>(bn, options.bn_normalization);
    pre_activation_.push_back(net_.size() - 1);
    if (options.activation == Nonlinearity::kSigmoid) {
      net_.emplace<Sigmoid>();
    } else {
      net_.emplace<ReLU>();
    }
    if (options.bn == BnPlacement::kAfter) {
      net_.emplace<BatchNormLayer>(bn, options.bn_normalization);
    }
    if (options.dropout > 0.0) {
      net_.emplace<Dropout>(options.dropout, derive_seed(options.seed, kDropoutStreamBase + i));
    }
  }
}

Mlp build_mlp(std::vector<int64_t> sizes, Nonlinearity activation, BnPlacement bn, uint64_t seed,
              InitOptions init) {
  return Mlp(MlpOptions{
      .sizes = std::move(sizes), .activation = activation, .bn = bn, .init = init, .seed = seed});
}

}  // namespace bnorm::nn
