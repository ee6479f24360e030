// Loss and gradient along the gradient direction, with the network restored afterwards.
#include "experiments/landscape.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "experiments/paper_settings.hpp"
#include "nn/noisy_scale_shift.hpp"
#include "nn/softmax_cross_entropy.hpp"

namespace bnorm::experiments {
namespace {

// Loss at the current parameters; the gradient of every parameter, concatenated, into g.
double loss_and_gradient(nn::Sequential& net, std::span<const float> x,
                         std::span<const int32_t> labels, std::vector<double>& g) {
  const auto batch = static_cast<int64_t>(labels.size());
  net.zero_grad();
  nn::SoftmaxCrossEntropy loss;
  const double value = loss.forward(net.forward(x, batch, nn::Phase::kTrain), labels);
  nn::Tensor dlogits;
  dlogits.resize(batch, net.out_features());
  loss.backward(dlogits);
  net.backward(dlogits);
  g.clear();
  for (const nn::Parameter& p : net.parameters()) g.insert(g.end(), p.grad.begin(), p.grad.end());
  return value;
}

}  // namespace

LandscapePoint measure_along_gradient(nn::Sequential& net, std::span<const float> x,
                                      std::span<const int32_t> labels,
                                      const std::vector<double>& etas) {
  require(!etas.empty() && !labels.empty() &&
              x.size() == labels.size() * static_cast<size_t>(net.in_features()),
          "E8",
          "expected step sizes and a batch of rows of " + std::to_string(net.in_features()) +
              " values, got " + std::to_string(etas.size()) + " step sizes and " +
              std::to_string(x.size()) + " values for " + std::to_string(labels.size()) +
              " labels");
  // What the probing changes: parameters and their gradients, running statistics, counters, and
  // the noise layers' hold flags.
  std::vector<nn::Parameter> params = net.parameters();
  std::vector<std::vector<float>> values, grads;
  for (const nn::Parameter& p : params) {
    values.emplace_back(p.value.begin(), p.value.end());
    grads.emplace_back(p.grad.begin(), p.grad.end());
  }
  std::vector<nn::Buffer> buffers = net.buffers();
  std::vector<std::vector<float>> buffer_values;
  for (const nn::Buffer& b : buffers) buffer_values.emplace_back(b.value.begin(), b.value.end());
  std::vector<nn::Counter> counters = net.counters();
  std::vector<int64_t> counter_values;
  for (const nn::Counter& c : counters) counter_values.push_back(c.get());
  std::vector<std::pair<nn::NoisyScaleShift*, bool>> noise;
  for (size_t i = 0; i < net.size(); ++i) {
    if (auto* n = dynamic_cast<nn::NoisyScaleShift*>(&net.layer(i))) {
      noise.emplace_back(n, n->held());
      n->set_held(true);
    }
  }

  LandscapePoint point;
  std::vector<double> g0, g;
  point.loss = loss_and_gradient(net, x, labels, g0);
  double norm2 = 0;
  for (double v : g0) norm2 += v * v;
  point.grad_norm = std::sqrt(norm2);
  double lo = INFINITY, hi = -INFINITY;
  for (double eta : etas) {
    size_t at = 0;
    for (size_t i = 0; i < params.size(); ++i)
      for (size_t j = 0; j < params[i].value.size(); ++j, ++at)
        params[i].value[j] = static_cast<float>(values[i][j] - eta * g0[at]);
    const double loss = loss_and_gradient(net, x, labels, g);
    lo = std::min(lo, loss);
    hi = std::max(hi, loss);
    double diff2 = 0;
    for (size_t i = 0; i < g.size(); ++i) diff2 += (g[i] - g0[i]) * (g[i] - g0[i]);
    point.grad_change = std::max(point.grad_change, std::sqrt(diff2));
    // A non-finite loss or gradient must show as such, not vanish in min/max.
    if (!std::isfinite(loss) || !std::isfinite(diff2)) point.grad_change = point.loss_range = NAN;
  }
  if (!std::isnan(point.loss_range)) point.loss_range = hi - lo;

  for (size_t i = 0; i < params.size(); ++i) {
    std::copy(values[i].begin(), values[i].end(), params[i].value.begin());
    std::copy(grads[i].begin(), grads[i].end(), params[i].grad.begin());
  }
  for (size_t i = 0; i < buffers.size(); ++i)
    std::copy(buffer_values[i].begin(), buffer_values[i].end(), buffers[i].value.begin());
  for (size_t i = 0; i < counters.size(); ++i) counters[i].set(counter_values[i]);
  for (auto& [layer, held] : noise) layer->set_held(held);
  return point;
}

}  // namespace bnorm::experiments
