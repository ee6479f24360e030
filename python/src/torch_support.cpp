// Private entry points of bnorm.torch (python/bnorm/torch/function.py): one call per forward and
// one per backward, positional arguments, so that a small layer's step spends its time in the
// kernels rather than in argument handling. Arrays are numpy views of the tensors' memory in the
// layout's physical order; the checks are those of the public functions (functional.cpp).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <vector>

#include "arrays.hpp"

namespace bnorm::python {
namespace {

struct ForwardArgs {
  py::handle x, y, weight, bias, running_mean, running_var;
  bool use_batch_stats;
  double factor, eps;
  py::handle layout;
  bool need_stats;
  py::handle counter;
};

// The module's num_batches_tracked as a numpy view (an int64 array of one element), or None.
// Checked before the kernels run, so that a bad argument changes nothing.
int64_t* counter_of(const py::handle& counter, std::string_view op) {
  if (counter.is_none()) return nullptr;
  if (!py::isinstance<py::array>(counter)) {
    fail_type(op, "expected num_batches_tracked to be a numpy array or None");
  }
  auto a = py::reinterpret_borrow<py::array>(counter);
  if (!a.dtype().equal(py::dtype::of<int64_t>()) || a.size() != 1 || !a.writeable()) {
    fail_type(op, "expected num_batches_tracked to be a writable int64 array of one element, got " +
                      std::string(py::str(a.dtype())) + ", " + std::to_string(a.size()) +
                      " element(s), " + (a.writeable() ? "writable" : "read-only"));
  }
  return static_cast<int64_t*>(a.mutable_data());
}

// Training (batch moments, running statistics updated in place by `factor` when given) or
// inference (running statistics) forward into y. Returns (mean, invstd) [C] float64, the
// statistics y was normalized with, when need_stats (the backward's inputs), else None.
// `counter` (the module's num_batches_tracked, or None) goes up by one once the kernels have run:
// here rather than by torch's add_, a full operator dispatch, whose code and data a large kernel
// has just pushed out of the caches (docs/python.md, Speed).
template <typename T>
py::object torch_forward_impl(const ForwardArgs& a) {
  const std::string_view op =
      a.use_batch_stats ? "batch_norm_forward_train" : "batch_norm_forward_infer";
  const Layout layout = parse_layout(a.layout, op);
  int64_t* const counter = counter_of(a.counter, op);
  auto x = input_array<T>(a.x, op, "x");
  const TensorDesc desc = desc_of(x, layout);
  const py::ssize_t c = desc.dims.size() >= 2 ? static_cast<py::ssize_t>(desc.dims[1]) : 0;
  py::array_t<T> gamma_keep, beta_keep, mean_keep, var_keep;
  const auto gamma = channel_input<T>(a.weight, &gamma_keep, op, "gamma");
  const auto beta = channel_input<T>(a.bias, &beta_keep, op, "beta");
  auto y = output_array<T>(a.y, shape_of(desc), op, "out");
  py::array_t<double> mean_out, invstd_out;
  if (a.use_batch_stats) {
    const bool update = !a.running_mean.is_none();
    if (update == a.running_var.is_none()) {
      fail_value(op, "expected both running_mean and running_var, or neither, got one");
    }
    py::array_t<T> running_mean, running_var;
    if (update) {
      running_mean = output_array<T>(a.running_mean, {c}, op, "running_mean");
      running_var = output_array<T>(a.running_var, {c}, op, "running_var");
    }
    std::vector<Moments> moments(static_cast<size_t>(c));
    invstd_out = py::array_t<double>(c);
    {
      py::gil_scoped_release release;
      batch_norm_forward_train<T>(const_span(x), desc, gamma, beta, a.eps, mutable_span(y), moments,
                                  Backend::kAuto, Activation::kNone, mutable_span(invstd_out));
      if (update) {
        update_running_stats<T>(moments, a.factor, mutable_span(running_mean),
                                mutable_span(running_var));
      }
    }
    if (counter != nullptr) ++*counter;
    if (!a.need_stats) return py::none();
    mean_out = py::array_t<double>(c);
    double* mean = mean_out.mutable_data();
    for (py::ssize_t i = 0; i < c; ++i) mean[i] = moments[static_cast<size_t>(i)].mean;
  } else {
    if (a.running_mean.is_none() || a.running_var.is_none()) {
      fail_value(op, "expected mean and var arrays (the statistics to normalize with), got None");
    }
    const auto mean = channel_input<T>(a.running_mean, &mean_keep, op, "mean");
    const auto var = channel_input<T>(a.running_var, &var_keep, op, "var");
    {
      py::gil_scoped_release release;
      batch_norm_forward_infer<T>(const_span(x), desc, mean, var, gamma, beta, a.eps,
                                  mutable_span(y));
    }
    if (counter != nullptr) ++*counter;
    if (!a.need_stats) return py::none();
    // The running statistics are constants of the backward: its mean and invstd in float64.
    mean_out = py::array_t<double>(c);
    invstd_out = py::array_t<double>(c);
    double* m = mean_out.mutable_data();
    double* s = invstd_out.mutable_data();
    for (size_t i = 0; i < mean.size(); ++i) {
      m[i] = static_cast<double>(mean[i]);
      s[i] = 1.0 / std::sqrt(static_cast<double>(var[i]) + a.eps);
    }
  }
  return py::make_tuple(mean_out, invstd_out);
}

struct BackwardArgs {
  py::handle x, dy, mean, invstd, weight;
  bool through_batch_stats;
  py::handle layout, dx;
  bool need_dgamma, need_dbeta;
};

// dx into `dx` (None: not computed); returns (dgamma, dbeta), new arrays or None.
template <typename T>
py::tuple torch_backward_impl(const BackwardArgs& a) {
  constexpr std::string_view op = "batch_norm_backward";
  const Layout layout = parse_layout(a.layout, op);
  const BackwardInputs<T> in = backward_inputs<T>(a.x, a.dy, layout, op);
  const auto& [x, dy, desc, c] = in;
  py::array_t<double> mean_keep, invstd_keep;
  py::array_t<T> gamma_keep;
  const auto mean = channel_input<double>(a.mean, &mean_keep, op, "mean");
  const auto invstd = channel_input<double>(a.invstd, &invstd_keep, op, "invstd");
  const auto gamma = channel_input<T>(a.weight, &gamma_keep, op, "gamma");
  std::span<T> dx_span, dgamma_span, dbeta_span;
  py::array_t<T> dx_arr;
  if (!a.dx.is_none()) {
    dx_arr = output_array<T>(a.dx, shape_of(desc), op, "dx");
    dx_span = mutable_span(dx_arr);
  }
  py::object dgamma = py::none(), dbeta = py::none();
  if (a.need_dgamma) {
    py::array_t<T> arr(c);
    dgamma_span = mutable_span(arr);
    dgamma = arr;
  }
  if (a.need_dbeta) {
    py::array_t<T> arr(c);
    dbeta_span = mutable_span(arr);
    dbeta = arr;
  }
  const StatsGradient stats =
      a.through_batch_stats ? StatsGradient::kThroughBatchStats : StatsGradient::kStatsAsConstants;
  {
    py::gil_scoped_release release;
    batch_norm_backward<T>(const_span(x), const_span(dy), desc, mean, invstd, gamma, stats, dx_span,
                           dgamma_span, dbeta_span);
  }
  return py::make_tuple(dgamma, dbeta);
}

}  // namespace

void bind_torch_support(py::module_& m) {
  m.def(
      "_torch_forward",
      [](const py::handle& x, const py::handle& y, const py::handle& weight, const py::handle& bias,
         const py::handle& running_mean, const py::handle& running_var, bool use_batch_stats,
         double factor, double eps, const py::handle& layout, bool need_stats,
         const py::handle& counter) {
        const ForwardArgs a{
            x,      y,   weight, bias,       running_mean, running_var, use_batch_stats,
            factor, eps, layout, need_stats, counter};
        return dtype_of(x, "batch_norm_forward", "x") == DType::kFloat32
                   ? torch_forward_impl<float>(a)
                   : torch_forward_impl<double>(a);
      },
      "bnorm.torch's forward (private): (x, y, weight, bias, running_mean, running_var, "
      "use_batch_stats, factor, eps, layout, need_stats, counter) -> (mean, invstd) or None; "
      "counter (an int64 array of one element, or None) goes up by one.");
  m.def(
      "_torch_backward",
      [](const py::handle& x, const py::handle& dy, const py::handle& mean,
         const py::handle& invstd, const py::handle& weight, bool through_batch_stats,
         const py::handle& layout, const py::handle& dx, bool need_dgamma, bool need_dbeta) {
        const BackwardArgs a{x,      dy, mean,        invstd,    weight, through_batch_stats,
                             layout, dx, need_dgamma, need_dbeta};
        return dtype_of(x, "batch_norm_backward", "x") == DType::kFloat32
                   ? torch_backward_impl<float>(a)
                   : torch_backward_impl<double>(a);
      },
      "bnorm.torch's backward (private): (x, dy, mean, invstd, weight, through_batch_stats, "
      "layout, dx, need_dgamma, need_dbeta) -> (dgamma, dbeta), None where not computed.");
}

}  // namespace bnorm::python
