// Sequential: activation buffers, forward and backward through the chain.
#include "nn/sequential.hpp"

#include <algorithm>
#include <string>

#include "check.hpp"

namespace bnorm::nn {

Sequential::Sequential(int64_t in_features) : in_features_(in_features), widths_{in_features} {
  detail::check(in_features > 0, "Sequential", "expected in_features > 0, got ", in_features);
}

Layer& Sequential::add(std::unique_ptr<Layer> layer) {
  detail::check(layer != nullptr, "Sequential::add", "expected a layer, got nullptr");
  widths_.push_back(layer->out_features(widths_.back()));
  layers_.push_back(std::move(layer));
  batch_ = -1;
  return *layers_.back();
}

void Sequential::resize_activations(int64_t batch) {
  if (batch == batch_) return;
  acts_.resize(widths_.size());
  grads_.resize(widths_.size());
  for (size_t i = 0; i < widths_.size(); ++i) {
    acts_[i].resize(batch, widths_[i]);
    grads_[i].resize(batch, widths_[i]);
  }
  batch_ = batch;
}

const Tensor& Sequential::forward(std::span<const float> x, int64_t batch, Phase phase) {
  detail::check(batch > 0 && static_cast<int64_t>(x.size()) == batch * in_features_,
                "Sequential::forward", "expected x to hold batch * in_features = ", batch, " * ",
                in_features_, " values with batch > 0, got ", x.size());
  detail::check(!layers_.empty(), "Sequential::forward", "expected at least one layer, got none");
  resize_activations(batch);
  std::copy(x.begin(), x.end(), acts_[0].data());
  for (size_t i = 0; i < layers_.size(); ++i) layers_[i]->forward(acts_[i], acts_[i + 1], phase);
  return acts_.back();
}

void Sequential::backward(const Tensor& dout) {
  detail::check(batch_ > 0 && dout.numel() == acts_.back().numel(), "Sequential::backward",
                "expected dout with the last forward's output size ", acts_.back().numel(),
                ", got ", dout.numel());
  const Tensor* upstream = &dout;
  for (size_t i = layers_.size(); i-- > 0;) {
    Tensor* din = i > 0 ? &grads_[i] : nullptr;  // no gradient for the input data
    layers_[i]->backward(acts_[i], acts_[i + 1], *upstream, din);
    upstream = din;
  }
}

namespace {

// Every layer's items (parameters, buffers, counters), names prefixed with the layer index.
template <typename Item, typename Get>
std::vector<Item> prefixed(const std::vector<std::unique_ptr<Layer>>& layers, Get get) {
  std::vector<Item> all;
  for (size_t i = 0; i < layers.size(); ++i) {
    for (Item& item : get(*layers[i])) {
      item.name = std::to_string(i) + "." + item.name;
      all.push_back(std::move(item));
    }
  }
  return all;
}

}  // namespace

std::vector<Parameter> Sequential::parameters() {
  return prefixed<Parameter>(layers_, [](Layer& l) { return l.parameters(); });
}

std::vector<Buffer> Sequential::buffers() {
  return prefixed<Buffer>(layers_, [](Layer& l) { return l.buffers(); });
}

std::vector<Counter> Sequential::counters() {
  return prefixed<Counter>(layers_, [](Layer& l) { return l.counters(); });
}

void Sequential::zero_grad() {
  for (auto& layer : layers_) layer->zero_grad();
}

std::vector<float> collect_unit(Sequential& net, size_t layer, int64_t unit,
                                std::span<const float> x, int64_t batch, Phase phase) {
  constexpr std::string_view op = "collect_unit";
  detail::check(layer < net.size(), op, "expected a layer index below ", net.size(), ", got ",
                layer);
  const int64_t width = net.width_after(layer);
  detail::check(unit >= 0 && unit < width, op, "expected a unit in [0, ", width, "), got ", unit);
  detail::check(batch > 0, op, "expected batch > 0, got ", batch);
  const int64_t features = net.in_features();
  detail::check(static_cast<int64_t>(x.size()) % features == 0, op, "expected a multiple of ",
                features, " values, got ", x.size());
  const int64_t count = static_cast<int64_t>(x.size()) / features;
  std::vector<float> values;
  values.reserve(static_cast<size_t>(count));
  for (int64_t start = 0; start < count; start += batch) {
    const int64_t rows = std::min(batch, count - start);
    net.forward(
        x.subspan(static_cast<size_t>(start * features), static_cast<size_t>(rows * features)),
        rows, phase);
    const Tensor& out = net.output_of(layer);
    for (int64_t r = 0; r < rows; ++r) values.push_back(out[r * width + unit]);
  }
  return values;
}

}  // namespace bnorm::nn
