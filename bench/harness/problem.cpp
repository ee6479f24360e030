// Shapes, ops and problem data of `bnorm bench`; the reference outputs come from bnorm's
// reference kernels (float64 accumulation), which PyTorch parity tests already pin down.
#include "problem.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <random>

#include "bnorm/error.hpp"
#include "bnorm/functional.hpp"

namespace bnorm::bench {

std::string_view to_string(Op op) {
  switch (op) {
    case Op::kForwardTrain:
      return "fwd_train";
    case Op::kForwardInfer:
      return "fwd_infer";
    case Op::kBackward:
      return "backward";
  }
  return "?";
}

Op op_from_string(std::string_view name) {
  for (Op op : {Op::kForwardTrain, Op::kForwardInfer, Op::kBackward}) {
    if (to_string(op) == name) return op;
  }
  throw Error("[bench] expected an op among fwd_train, fwd_infer, backward, got '" +
              std::string(name) + "'");
}

std::string_view to_string(DType dtype) { return dtype == DType::kBfloat16 ? "bf16" : "f32"; }

DType dtype_from_string(std::string_view name) {
  for (DType d : {DType::kFloat32, DType::kBfloat16}) {
    if (to_string(d) == name) return d;
  }
  throw Error("[bench] expected a dtype among f32, bf16, got '" + std::string(name) + "'");
}

double element_bytes(DType dtype) { return dtype == DType::kBfloat16 ? 2.0 : 4.0; }

double output_tolerance(DType dtype) { return dtype == DType::kBfloat16 ? 8e-3 : 2e-3; }

std::string_view layout_name(Layout layout) {
  switch (layout) {
    case Layout::kNC:
      return "nc";
    case Layout::kChannelsFirst:
      return "nchw";
    case Layout::kChannelsLast:
      return "nhwc";
  }
  return "?";
}

std::vector<Layout> Shape::layouts() const {
  if (dims.size() == 2) return {Layout::kNC};
  return {Layout::kChannelsFirst, Layout::kChannelsLast};
}

int64_t Shape::numel() const {
  const std::optional<int64_t> n = checked_numel(dims);
  if (!n) throw Error("[bench] expected a shape whose element count fits in 64 bits, got " + name);
  return *n;
}

std::optional<int64_t> checked_numel(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (__builtin_mul_overflow(n, d, &n)) return std::nullopt;
  }
  return n;
}

namespace {

Shape named(std::vector<int64_t> dims) {
  std::string name = dims.size() == 2 ? "fc_" : "conv_";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) name += 'x';
    name += std::to_string(dims[i]);
  }
  return {.name = name, .dims = std::move(dims)};
}

}  // namespace

std::vector<Shape> default_shapes() {
  return {named({256, 1024}), named({60, 100}), named({32, 64, 56, 56}), named({64, 256, 14, 14}),
          named({64, 128, 56, 56})};
}

std::vector<Shape> quick_shapes() { return {named({60, 100}), named({8, 32, 14, 14})}; }

Shape parse_shape(std::string_view text) {
  for (const Shape& s : default_shapes()) {
    if (s.name == text) return s;
  }
  // Plain dims "NxC" or "NxCxHxW", optionally behind the fc_/conv_ prefix.
  std::string_view rest = text;
  for (std::string_view prefix : {"fc_", "conv_"}) {
    if (rest.starts_with(prefix)) rest.remove_prefix(prefix.size());
  }
  std::vector<int64_t> dims;
  bool well_formed = !rest.empty();
  while (well_formed) {
    int64_t d = 0;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), d);
    well_formed = ec == std::errc() && d > 0;
    if (!well_formed) break;
    dims.push_back(d);
    rest.remove_prefix(static_cast<size_t>(end - rest.data()));
    if (rest.empty()) break;
    well_formed = rest.front() == 'x';  // and another number must follow
    rest.remove_prefix(1);
  }
  if (!well_formed || (dims.size() != 2 && dims.size() != 4)) {
    throw Error(
        "[bench] expected a shape like fc_256x1024, conv_32x64x56x56, 60x100 or "
        "8x32x14x14 (positive NxC or NxCxHxW), got '" +
        std::string(text) + "'");
  }
  Shape shape = named(dims);
  // 4294967296x4294967296 would wrap to 0 and be reported as a channel of 0 values.
  if (!checked_numel(dims)) {
    throw Error("[bench] expected a shape whose element count N*C*H*W fits in 64 bits (at most " +
                std::to_string(INT64_MAX) + "), got '" + std::string(text) + "'");
  }
  if (shape.numel() / dims[1] < 2) {
    throw Error("[bench] expected at least 2 values per channel (N * H * W > 1), got '" +
                std::string(text) + "'");
  }
  return shape;
}

double compulsory_bytes(Op op, int64_t numel, DType dtype) {
  return static_cast<double>(numel) * element_bytes(dtype) * (op == Op::kBackward ? 3.0 : 2.0);
}

namespace {

void round_to_bf16(std::vector<float>& v) {
  for (float& f : v) f = static_cast<float>(bfloat16(f));
}

}  // namespace

Problem make_problem(const Shape& shape, Layout layout, Op op, uint64_t seed, DType dtype) {
  Problem p{.shape = shape, .layout = layout, .op = op, .dtype = dtype};
  const auto numel = static_cast<size_t>(shape.numel());
  const auto c = static_cast<size_t>(p.channels());
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uniform(0.5f, 1.5f);

  // x around 3 with unit spread, dy standard normal: a kernel that forgets to centre shows.
  p.x.resize(numel);
  for (float& v : p.x) v = 3.0f + normal(rng);
  if (dtype == DType::kBfloat16) round_to_bf16(p.x);
  p.gamma.resize(c);
  p.beta.resize(c);
  p.running_mean.resize(c);
  p.running_var.resize(c);
  for (size_t i = 0; i < c; ++i) {
    p.gamma[i] = uniform(rng);
    p.beta[i] = 0.1f * normal(rng);
    p.running_mean[i] = 3.0f + 0.1f * normal(rng);
    p.running_var[i] = uniform(rng);
  }

  const TensorDesc desc = p.desc();
  const std::span<const float> x(p.x), gamma(p.gamma), beta(p.beta);
  if (op == Op::kForwardInfer) {
    p.reference.y.resize(numel);
    batch_norm_forward_infer<float>(x, desc, p.running_mean, p.running_var, gamma, beta, p.eps,
                                    p.reference.y, Backend::kReference);
    return p;
  }
  // Batch statistics: what fwd_train outputs and what backward differentiates through.
  std::vector<Moments> moments(c);
  std::vector<float> y(numel);
  batch_norm_forward_train<float>(x, desc, gamma, beta, p.eps, y, moments, Backend::kReference);
  p.save_mean.resize(c);
  p.save_invstd.resize(c);
  for (size_t i = 0; i < c; ++i) {
    p.save_mean[i] = moments[i].mean;
    p.save_invstd[i] = 1.0 / std::sqrt(moments[i].variance() + p.eps);
  }
  if (op == Op::kForwardTrain) {
    p.reference.y = std::move(y);
    return p;
  }
  p.dy.resize(numel);
  for (float& v : p.dy) v = normal(rng);
  if (dtype == DType::kBfloat16) round_to_bf16(p.dy);
  p.reference.dx.resize(numel);
  p.reference.dgamma.resize(c);
  p.reference.dbeta.resize(c);
  batch_norm_backward<float>(x, p.dy, desc, p.save_mean, p.save_invstd, gamma,
                             StatsGradient::kThroughBatchStats, p.reference.dx, p.reference.dgamma,
                             p.reference.dbeta, Backend::kReference);
  return p;
}

}  // namespace bnorm::bench
