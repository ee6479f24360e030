// SGD update loop; see sgd.hpp for the convention.
#include "optim/sgd.hpp"

#include <algorithm>

#include "check.hpp"

namespace bnorm::optim {

Sgd::Sgd(std::vector<nn::Parameter> parameters, const SgdOptions& options)
    : parameters_(std::move(parameters)), options_(options) {
  constexpr std::string_view op = "Sgd";
  detail::check(options.momentum >= 0.0 && options.momentum < 1.0, op,
                "expected momentum in [0, 1), got ", options.momentum);
  detail::check(options.weight_decay >= 0.0, op, "expected weight_decay >= 0, got ",
                options.weight_decay);
  set_lr(options.lr);
  for (const nn::Parameter& p : parameters_) {
    detail::check(p.value.size() == p.grad.size(), op, "expected parameter '", p.name,
                  "' and its gradient to have the same size, got ", p.value.size(), " and ",
                  p.grad.size());
    velocity_.emplace_back(p.value.size(), 0.0f);
  }
}

void Sgd::set_lr(double lr) {
  detail::check(lr >= 0.0, "Sgd::set_lr", "expected a learning rate >= 0, got ", lr);
  options_.lr = lr;
}

void Sgd::step() {
  const auto lr = static_cast<float>(options_.lr);
  const auto mu = static_cast<float>(options_.momentum);
  const auto wd = static_cast<float>(options_.weight_decay);
  for (size_t k = 0; k < parameters_.size(); ++k) {
    float* p = parameters_[k].value.data();
    const float* grad = parameters_[k].grad.data();
    float* v = velocity_[k].data();
    const size_t size = parameters_[k].value.size();
    for (size_t i = 0; i < size; ++i) {
      const float g = grad[i] + wd * p[i];
      v[i] = mu * v[i] + g;
      p[i] -= lr * v[i];
    }
  }
}

std::vector<nn::Buffer> Sgd::state() {
  std::vector<nn::Buffer> buffers;
  for (size_t k = 0; k < parameters_.size(); ++k) {
    buffers.push_back({.name = "momentum_buffer." + parameters_[k].name, .value = velocity_[k]});
  }
  return buffers;
}

void Sgd::zero_grad() {
  for (nn::Parameter& p : parameters_) nn::zero_grad(p);
}

}  // namespace bnorm::optim
