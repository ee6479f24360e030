// Algorithm 2's population statistics: a forward pass layer by layer in which every BN layer runs
// in Mode::kBatchStats (batch statistics, recorded, running averages untouched).
#include "experiments/paper_population.hpp"

#include <string>

#include "bnorm/error.hpp"
#include "data/batch_iterator.hpp"
#include "nn/batch_norm_layer.hpp"
#include "nn/conv/channel_batch_norm_layer.hpp"

namespace bnorm::experiments {
namespace {

// The BN module of layer and the descriptor of a batch of `rows` rows; nullptr if not a BN layer.
BatchNorm<float>* bn_of(nn::Layer& layer, int64_t rows, TensorDesc& desc) {
  if (auto* bn = dynamic_cast<nn::BatchNormLayer*>(&layer)) {
    desc = {.dims = {rows, bn->module().options().num_features}, .layout = Layout::kNC};
    return &bn->module();
  }
  if (auto* bn = dynamic_cast<nn::ChannelBatchNormLayer*>(&layer)) {
    desc = bn->desc(rows);
    return &bn->module();
  }
  return nullptr;
}

}  // namespace

int64_t estimate_population_statistics(nn::Sequential& net, const data::Dataset& train,
                                       int64_t batch, int64_t batches, uint64_t seed) {
  if (batches < 1 || batch < 2 || batch > train.count) {
    throw Error("[population statistics] expected at least one batch of 2 to " +
                std::to_string(train.count) + " images, got " + std::to_string(batches) +
                " batches of " + std::to_string(batch));
  }
  TensorDesc desc;
  int64_t layers = 0;
  for (size_t i = 0; i < net.size(); ++i) {
    if (BatchNorm<float>* bn = bn_of(net.layer(i), batch, desc)) {
      bn->begin_population_estimate();
      ++layers;
    }
  }
  data::BatchIterator it(train, batch, seed, /*binarize=*/false);
  std::vector<float> x(static_cast<size_t>(batch * train.features));
  std::vector<int32_t> y(static_cast<size_t>(batch));
  nn::Tensor a, b;
  for (int64_t k = 0; k < batches; ++k) {
    it.next_into(x, y);
    a.resize(batch, train.features);
    std::copy(x.begin(), x.end(), a.data());
    for (size_t i = 0; i < net.size(); ++i) {
      b.resize(batch, net.width_after(i));
      if (BatchNorm<float>* bn = bn_of(net.layer(i), batch, desc)) {
        bn->forward(a.span(), desc, b.span(), Mode::kBatchStats);
      } else {
        net.layer(i).forward(a, b, nn::Phase::kEval);
      }
      std::swap(a, b);
    }
  }
  for (size_t i = 0; i < net.size(); ++i) {
    if (BatchNorm<float>* bn = bn_of(net.layer(i), batch, desc)) bn->end_population_estimate();
  }
  return layers;
}

}  // namespace bnorm::experiments
