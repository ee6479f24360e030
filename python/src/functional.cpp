// Python bindings of the stateless API (bnorm/functional.hpp) on numpy arrays. Each function
// checks its arrays, takes spans over their memory (contiguous inputs are not copied), releases
// the GIL and calls the library, which does every other check.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "arrays.hpp"

namespace bnorm::python {
namespace {

using py::arg;

template <typename T>
py::tuple forward_train_impl(const py::handle& x_in, const py::handle& gamma_in,
                             const py::handle& beta_in, double eps, const py::handle& layout_in,
                             const py::handle& out, const py::handle& moments_out,
                             const py::handle& invstd_out, const py::handle& activation_in,
                             const py::handle& backend_in) {
  constexpr std::string_view op = "batch_norm_forward_train";
  const Layout layout = parse_layout(layout_in, op);
  const Activation activation = parse_activation(activation_in, op);
  const Backend backend = parse_backend(backend_in, op);
  auto x = input_array<T>(x_in, op, "x");
  const TensorDesc desc = desc_of(x, layout);
  const py::ssize_t c = desc.dims.size() >= 2 ? static_cast<py::ssize_t>(desc.dims[1]) : 0;
  py::array_t<T> gamma_keep, beta_keep;
  const auto gamma = channel_input<T>(gamma_in, &gamma_keep, op, "gamma");
  const auto beta = channel_input<T>(beta_in, &beta_keep, op, "beta");
  auto y = output_array<T>(out, shape_of(desc), op, "out");
  py::array moments = moments_output(moments_out, c, op);
  auto invstd = output_array<double>(invstd_out, {c}, op, "invstd");
  std::span<Moments> moments_span(static_cast<Moments*>(moments.mutable_data()),
                                  static_cast<size_t>(c));
  {
    py::gil_scoped_release release;
    batch_norm_forward_train<T>(const_span(x), desc, gamma, beta, eps, mutable_span(y),
                                moments_span, backend, activation, mutable_span(invstd));
  }
  return py::make_tuple(y, moments, invstd);
}

template <typename T>
py::array forward_infer_impl(const py::handle& x_in, const py::handle& mean_in,
                             const py::handle& var_in, const py::handle& gamma_in,
                             const py::handle& beta_in, double eps, const py::handle& layout_in,
                             const py::handle& out, const py::handle& activation_in,
                             const py::handle& backend_in) {
  constexpr std::string_view op = "batch_norm_forward_infer";
  const Layout layout = parse_layout(layout_in, op);
  const Activation activation = parse_activation(activation_in, op);
  const Backend backend = parse_backend(backend_in, op);
  auto x = input_array<T>(x_in, op, "x");
  const TensorDesc desc = desc_of(x, layout);
  py::array_t<T> mean_keep, var_keep, gamma_keep, beta_keep;
  if (mean_in.is_none() || var_in.is_none()) {
    fail_value(op, "expected mean and var arrays (the statistics to normalize with), got None");
  }
  const auto mean = channel_input<T>(mean_in, &mean_keep, op, "mean");
  const auto var = channel_input<T>(var_in, &var_keep, op, "var");
  const auto gamma = channel_input<T>(gamma_in, &gamma_keep, op, "gamma");
  const auto beta = channel_input<T>(beta_in, &beta_keep, op, "beta");
  auto y = output_array<T>(out, shape_of(desc), op, "out");
  {
    py::gil_scoped_release release;
    batch_norm_forward_infer<T>(const_span(x), desc, mean, var, gamma, beta, eps, mutable_span(y),
                                backend, activation);
  }
  return y;
}

struct BackwardArgs {
  py::handle x, dy, mean, invstd, gamma, stats_gradient, layout, dx, dgamma, dbeta;
  bool compute_dx, compute_dgamma, compute_dbeta;
  py::handle activation, beta, backend;
};

template <typename T>
py::tuple backward_impl(const BackwardArgs& a) {
  constexpr std::string_view op = "batch_norm_backward";
  const Layout layout = parse_layout(a.layout, op);
  const StatsGradient stats = parse_stats_gradient(a.stats_gradient, op);
  const Activation activation = parse_activation(a.activation, op);
  const Backend backend = parse_backend(a.backend, op);
  const BackwardInputs<T> in = backward_inputs<T>(a.x, a.dy, layout, op);
  const auto& [x, dy, desc, c] = in;
  py::array_t<double> mean_keep, invstd_keep;
  py::array_t<T> gamma_keep, beta_keep;
  const auto mean = channel_input<double>(a.mean, &mean_keep, op, "mean");
  const auto invstd = channel_input<double>(a.invstd, &invstd_keep, op, "invstd");
  const auto gamma = channel_input<T>(a.gamma, &gamma_keep, op, "gamma");
  const auto beta = channel_input<T>(a.beta, &beta_keep, op, "beta");
  py::object dx = py::none(), dgamma = py::none(), dbeta = py::none();
  std::span<T> dx_span, dgamma_span, dbeta_span;
  if (a.compute_dx) {
    auto arr = output_array<T>(a.dx, shape_of(desc), op, "dx");
    dx_span = mutable_span(arr);
    dx = arr;
  }
  if (a.compute_dgamma) {
    auto arr = output_array<T>(a.dgamma, {c}, op, "dgamma");
    dgamma_span = mutable_span(arr);
    dgamma = arr;
  }
  if (a.compute_dbeta) {
    auto arr = output_array<T>(a.dbeta, {c}, op, "dbeta");
    dbeta_span = mutable_span(arr);
    dbeta = arr;
  }
  {
    py::gil_scoped_release release;
    batch_norm_backward<T>(const_span(x), const_span(dy), desc, mean, invstd, gamma, stats, dx_span,
                           dgamma_span, dbeta_span, backend, activation, beta);
  }
  return py::make_tuple(dx, dgamma, dbeta);
}

template <typename T>
void update_running_stats_impl(const py::handle& moments_in, double factor,
                               const py::handle& running_mean_in,
                               const py::handle& running_var_in) {
  constexpr std::string_view op = "update_running_stats";
  py::array moments_keep;
  const auto moments = moments_input(moments_in, &moments_keep, op);
  const std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(moments.size())};
  auto running_mean = output_array<T>(running_mean_in, shape, op, "running_mean");
  auto running_var = output_array<T>(running_var_in, shape, op, "running_var");
  py::gil_scoped_release release;
  update_running_stats<T>(moments, factor, mutable_span(running_mean), mutable_span(running_var));
}

template <typename T>
AffineMap inference_affine_impl(const py::handle& mean_in, const py::handle& var_in,
                                const py::handle& gamma_in, const py::handle& beta_in, double eps) {
  constexpr std::string_view op = "inference_affine";
  py::array_t<T> mean_keep, var_keep, gamma_keep, beta_keep;
  const auto mean = channel_input<T>(mean_in, &mean_keep, op, "mean");
  const auto var = channel_input<T>(var_in, &var_keep, op, "var");
  const auto gamma = channel_input<T>(gamma_in, &gamma_keep, op, "gamma");
  const auto beta = channel_input<T>(beta_in, &beta_keep, op, "beta");
  return inference_affine<T>(mean, var, gamma, beta, eps);
}

template <typename T>
void fold_impl(const AffineMap& map, const py::handle& weight_in, const py::handle& bias_in) {
  constexpr std::string_view op = "fold_into_preceding";
  const auto w = py::reinterpret_borrow<py::array>(weight_in);
  auto weight = output_array<T>(
      weight_in, std::vector<py::ssize_t>(w.shape(), w.shape() + w.ndim()), op, "weight");
  const auto b = py::reinterpret_borrow<py::array>(bias_in);
  if (!py::isinstance<py::array>(bias_in)) fail_type(op, "expected bias to be a numpy array");
  auto bias = output_array<T>(bias_in, std::vector<py::ssize_t>(b.shape(), b.shape() + b.ndim()),
                              op, "bias");
  fold_into_preceding<T>(map, mutable_span(weight), mutable_span(bias));
}

// Calls f<float> or f<double> by the dtype of `x`.
#define BNORM_PY_DISPATCH(x, op, name, call) \
  (dtype_of(x, op, name) == DType::kFloat32 ? call<float> : call<double>)

}  // namespace

void bind_functional(py::module_& m) {
  m.def(
      "forward_train",
      [](const py::handle& x, const py::handle& gamma, const py::handle& beta, double eps,
         const py::handle& layout, const py::handle& out, const py::handle& moments,
         const py::handle& invstd, const py::handle& activation, const py::handle& backend) {
        return BNORM_PY_DISPATCH(x, "batch_norm_forward_train", "x", forward_train_impl)(
            x, gamma, beta, eps, layout, out, moments, invstd, activation, backend);
      },
      arg("x"), arg("gamma") = py::none(), arg("beta") = py::none(), arg("eps") = 1e-5,
      py::kw_only(), arg("layout") = "channels_first", arg("out") = py::none(),
      arg("moments") = py::none(), arg("invstd") = py::none(), arg("activation") = "none",
      arg("backend") = "auto",
      "Training forward with batch statistics. Returns (y, moments, invstd): y like x, moments "
      "[C] of moments_dtype (count, mean, m2), invstd [C] float64 = 1/sqrt(var + eps).");
  m.def(
      "forward_infer",
      [](const py::handle& x, const py::handle& mean, const py::handle& var,
         const py::handle& gamma, const py::handle& beta, double eps, const py::handle& layout,
         const py::handle& out, const py::handle& activation, const py::handle& backend) {
        return BNORM_PY_DISPATCH(x, "batch_norm_forward_infer", "x", forward_infer_impl)(
            x, mean, var, gamma, beta, eps, layout, out, activation, backend);
      },
      arg("x"), arg("mean"), arg("var"), arg("gamma") = py::none(), arg("beta") = py::none(),
      arg("eps") = 1e-5, py::kw_only(), arg("layout") = "channels_first", arg("out") = py::none(),
      arg("activation") = "none", arg("backend") = "auto",
      "Forward with given statistics (inference, frozen). out may be x itself (in place).");
  m.def(
      "backward",
      [](const py::handle& x, const py::handle& dy, const py::handle& mean,
         const py::handle& invstd, const py::handle& gamma, const py::handle& stats_gradient,
         const py::handle& layout, const py::handle& dx, const py::handle& dgamma,
         const py::handle& dbeta, bool compute_dx, bool compute_dgamma, bool compute_dbeta,
         const py::handle& activation, const py::handle& beta, const py::handle& backend) {
        const BackwardArgs a{
            x,    dy,     mean,  invstd,     gamma,          stats_gradient, layout,
            dx,   dgamma, dbeta, compute_dx, compute_dgamma, compute_dbeta,  activation,
            beta, backend};
        return BNORM_PY_DISPATCH(x, "batch_norm_backward", "x", backward_impl)(a);
      },
      arg("x"), arg("dy"), arg("mean"), arg("invstd"), arg("gamma") = py::none(), py::kw_only(),
      arg("stats_gradient") = "through_batch_stats", arg("layout") = "channels_first",
      arg("dx") = py::none(), arg("dgamma") = py::none(), arg("dbeta") = py::none(),
      arg("compute_dx") = true, arg("compute_dgamma") = true, arg("compute_dbeta") = true,
      arg("activation") = "none", arg("beta") = py::none(), arg("backend") = "auto",
      "Backward. mean, invstd [C]: the statistics the forward normalized with. Returns "
      "(dx, dgamma, dbeta), None for what was not computed; given outputs are overwritten.");
  m.def(
      "update_running_stats",
      [](const py::handle& moments, double factor, const py::handle& running_mean,
         const py::handle& running_var) {
        BNORM_PY_DISPATCH(running_mean, "update_running_stats", "running_mean",
                          update_running_stats_impl)
        (moments, factor, running_mean, running_var);
      },
      arg("moments"), arg("factor"), arg("running_mean"), arg("running_var"),
      "PyTorch's running-statistics update, in place: running = (1 - factor) * running + "
      "factor * batch (unbiased variance).");
  m.def(
      "inference_affine",
      [](const py::handle& mean, const py::handle& var, const py::handle& gamma,
         const py::handle& beta, double eps) {
        return BNORM_PY_DISPATCH(mean, "inference_affine", "mean", inference_affine_impl)(
            mean, var, gamma, beta, eps);
      },
      arg("mean"), arg("var"), arg("gamma") = py::none(), arg("beta") = py::none(),
      arg("eps") = 1e-5, "The per-channel affine map y = scale * x + shift of inference.");
  m.def(
      "fold_into_preceding",
      [](const AffineMap& map, const py::handle& weight, const py::handle& bias) {
        BNORM_PY_DISPATCH(weight, "fold_into_preceding", "weight", fold_impl)(map, weight, bias);
      },
      arg("affine"), arg("weight"), arg("bias"),
      "Folds an inference BatchNorm into the preceding layer's weight [C, ...] and bias [C], in "
      "place.");
  m.def(
      "selected_kernel_name",
      [](const std::vector<int64_t>& shape, const py::handle& dtype, const py::handle& layout,
         const py::handle& backend) -> std::string {
        constexpr std::string_view op = "selected_kernel_name";
        const py::dtype dt = py::dtype::from_args(py::reinterpret_borrow<py::object>(dtype));
        const bool f32 = dt.equal(py::dtype::of<float>());
        if (!f32 && !dt.equal(py::dtype::of<double>())) {
          fail_type(
              op, "expected dtype float32 or float64, got " + dt.attr("name").cast<std::string>());
        }
        const TensorDesc desc = desc_of_shape(shape, parse_layout(layout, op));
        const Backend b = parse_backend(backend, op);
        return f32 ? selected_kernel_name<float>(desc, b) : selected_kernel_name<double>(desc, b);
      },
      arg("shape"), arg("dtype") = "float32", arg("layout") = "channels_first",
      arg("backend") = "auto", "The kernel implementation a problem of this shape runs on.");
  m.def("momentum_from_decay", &momentum_from_decay, arg("decay"),
        "Keras/ONNX decay (0.99) to PyTorch momentum (0.01).");
}

}  // namespace bnorm::python
