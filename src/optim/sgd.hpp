// Stochastic gradient descent with momentum and weight decay, in PyTorch's convention
// (torch.optim.SGD, dampening 0, not Nesterov), per parameter element:
//   g = grad + weight_decay * p
//   v = momentum * v + g        (v starts at 0, so the first step has v = g)
//   p = p - lr * v
// The learning rate multiplies the velocity, not the gradient, so changing lr mid-run rescales the
// whole step at once. (Sutskever et al. write v = mu v - lr g, p += v; the two agree for constant
// lr.) Weight decay applies to every parameter it is given, BN gamma/beta and biases included, as
// PyTorch does for a single parameter group. Arithmetic is float32, as PyTorch's.
#pragma once

#include <vector>

#include "nn/layer.hpp"

namespace bnorm::optim {

struct SgdOptions {
  double lr = 0.01;           // >= 0
  double momentum = 0.0;      // in [0, 1)
  double weight_decay = 0.0;  // >= 0
};

class Sgd {
 public:
  // Keeps the views (the parameters must outlive the optimizer). Throws bnorm::Error on options out
  // of range or a parameter whose value and grad sizes differ.
  Sgd(std::vector<nn::Parameter> parameters, const SgdOptions& options);

  void step();       // one update from the current gradients
  void zero_grad();  // sets every gradient to 0

  double lr() const { return options_.lr; }
  void set_lr(double lr);
  const SgdOptions& options() const { return options_; }
  const std::vector<nn::Parameter>& parameters() const { return parameters_; }
  // The momentum buffers v, one per parameter, named "momentum_buffer.<parameter name>" (as
  // PyTorch's optimizer state calls them): what a checkpoint must keep for a run to resume exactly.
  std::vector<nn::Buffer> state();

 private:
  std::vector<nn::Parameter> parameters_;
  std::vector<std::vector<float>> velocity_;  // one per parameter, same size
  SgdOptions options_;
};

}  // namespace bnorm::optim
