// A chain of layers with preallocated activations. forward() keeps every layer's output, so an
// intermediate one (the input of a sigmoid, say) can be read after the call; backward() walks the
// chain in reverse. Buffers grow to the largest batch seen and are then reused: after the first
// step at a given batch size, a training step allocates nothing.
#pragma once

#include <memory>
#include <vector>

#include "nn/layer.hpp"

namespace bnorm::nn {

class Sequential {
 public:
  // in_features: features per input row (784 for MNIST). Throws on in_features <= 0.
  explicit Sequential(int64_t in_features);

  // Appends a layer; throws bnorm::Error when it cannot take the current output width.
  Layer& add(std::unique_ptr<Layer> layer);
  template <typename L, typename... Args>
  L& emplace(Args&&... args) {
    return static_cast<L&>(add(std::make_unique<L>(std::forward<Args>(args)...)));
  }

  size_t size() const { return layers_.size(); }
  Layer& layer(size_t i) { return *layers_.at(i); }
  const Layer& layer(size_t i) const { return *layers_.at(i); }
  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return widths_.back(); }  // width after the last layer
  int64_t width_after(size_t i) const { return widths_.at(i + 1); }

  // x [batch, in_features] row-major. Returns the output [batch, out_features]. Throws bnorm::Error
  // when x.size() != batch * in_features or batch <= 0.
  const Tensor& forward(std::span<const float> x, int64_t batch, Phase phase);

  // Backward of the last forward: dout [batch, out_features]. Parameter gradients accumulate.
  void backward(const Tensor& dout);

  // Output of layer i from the last forward, [batch, width_after(i)].
  const Tensor& output_of(size_t i) const { return acts_.at(i + 1); }
  const Tensor& output() const { return acts_.back(); }

  // Every layer's parameters, in order, names prefixed with the layer index ("0.weight").
  std::vector<Parameter> parameters();
  // Every layer's buffers, names prefixed likewise ("1.running_mean").
  std::vector<Buffer> buffers();
  // Every layer's counters, names prefixed likewise ("1.num_batches_tracked").
  std::vector<Counter> counters();
  void zero_grad();

 private:
  void resize_activations(int64_t batch);

  int64_t in_features_;
  std::vector<int64_t> widths_;  // widths_[0] = in_features, widths_[i + 1] = after layer i
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<Tensor> acts_;   // acts_[0] = input copy, acts_[i + 1] = output of layer i
  std::vector<Tensor> grads_;  // grads_[i] = d loss / d acts_[i]
  int64_t batch_ = -1;         // batch the buffers are shaped for
};

// Runs x [count, in_features] through net in batches of `batch` rows (the last may be shorter) and
// returns the values of feature `unit` of layer `layer`'s output, one per row: for example the
// input of a sigmoid over a probe set. Throws bnorm::Error on a bad layer, unit or size.
std::vector<float> collect_unit(Sequential& net, size_t layer, int64_t unit,
                                std::span<const float> x, int64_t batch, Phase phase);

}  // namespace bnorm::nn
