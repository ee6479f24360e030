// Python binding of the stateful module bnorm::BatchNorm<T> (bnorm/batch_norm.hpp) as
// bnorm.BatchNorm: one class for both dtypes, parameters and running statistics exposed as numpy
// views of the module's own memory (writable, no copies), every BatchNormOptions field a keyword.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <variant>

#include "arrays.hpp"

namespace bnorm::python {
namespace {

using py::arg;

class PyBatchNorm {
 public:
  PyBatchNorm(const BatchNormOptions& options, DType dtype) : bn_(make(options, dtype)) {}

  // Calls f(BatchNorm<T>&) on the module of whichever dtype it holds.
  template <typename F>
  decltype(auto) visit(F&& f) {
    return std::visit(std::forward<F>(f), bn_);
  }

  bool is_float32() const { return std::holds_alternative<BatchNorm<float>>(bn_); }
  const BatchNormOptions& options() const {
    return std::visit([](const auto& bn) -> const BatchNormOptions& { return bn.options(); }, bn_);
  }

 private:
  using Variant = std::variant<BatchNorm<float>, BatchNorm<double>>;
  static Variant make(const BatchNormOptions& options, DType dtype) {
    if (dtype == DType::kFloat32) return Variant(std::in_place_type<BatchNorm<float>>, options);
    return Variant(std::in_place_type<BatchNorm<double>>, options);
  }
  Variant bn_;
};

template <typename T>
void check_module_dtype(const py::handle& x, std::string_view op, std::string_view name) {
  const DType want = sizeof(T) == 4 ? DType::kFloat32 : DType::kFloat64;
  if (dtype_of(x, op, name) != want) {
    fail_type(op, "expected " + std::string(name) + " of dtype " + std::string(dtype_name<T>()) +
                      " (the module's dtype), got " + py::str(x.attr("dtype")).cast<std::string>());
  }
}

// A numpy view of one of the module's per-channel vectors; `self` keeps the module alive.
template <typename T>
py::object channel_view(std::span<T> v, const py::object& self) {
  if (v.empty()) return py::none();
  return py::array_t<T>({static_cast<py::ssize_t>(v.size())}, {static_cast<py::ssize_t>(sizeof(T))},
                        v.data(), self);
}

using Span = std::span<float> (BatchNorm<float>::*)();

// A property returning a view of gamma, beta, running_mean, ...; `which` picks the accessor.
template <typename Pick>
auto view_property(Pick pick) {
  return [pick](py::object self) {
    auto& m = self.cast<PyBatchNorm&>();
    return m.visit([&](auto& bn) { return channel_view(pick(bn), self); });
  };
}

py::array forward(PyBatchNorm& m, const py::handle& x_in, const py::handle& mode_in,
                  const py::handle& out) {
  constexpr std::string_view op = "BatchNorm::forward";
  const Mode mode = parse_mode(mode_in, op);
  return m.visit([&](auto& bn) -> py::array {
    using T = typename std::remove_reference_t<decltype(bn.gamma())>::value_type;
    check_module_dtype<T>(x_in, op, "x");
    auto x = input_array<T>(x_in, op, "x");
    const TensorDesc desc = desc_of(x, bn.options().layout);
    auto y = output_array<T>(out, shape_of(desc), op, "out");
    py::gil_scoped_release release;
    bn.forward(const_span(x), desc, mutable_span(y), mode);
    return y;
  });
}

py::object backward(PyBatchNorm& m, const py::handle& x_in, const py::handle& dy_in,
                    const py::handle& dx_out, bool compute_dx) {
  constexpr std::string_view op = "BatchNorm::backward";
  return m.visit([&](auto& bn) -> py::object {
    using T = typename std::remove_reference_t<decltype(bn.gamma())>::value_type;
    check_module_dtype<T>(x_in, op, "x");
    check_module_dtype<T>(dy_in, op, "dy");
    auto x = input_array<T>(x_in, op, "x");
    auto dy = input_array<T>(dy_in, op, "dy");
    py::object result = py::none();
    std::span<T> dx_span;
    if (compute_dx) {
      auto dx = output_array<T>(dx_out, std::vector<py::ssize_t>(x.shape(), x.shape() + x.ndim()),
                                op, "dx");
      dx_span = mutable_span(dx);
      result = dx;
    }
    py::gil_scoped_release release;
    bn.backward(const_span(x), const_span(dy), dx_span);
    return result;
  });
}

}  // namespace

void bind_batch_norm(py::module_& m) {
  py::class_<PyBatchNorm>(m, "BatchNorm",
                          "BatchNorm with parameters, running statistics and explicit modes "
                          "(train, batch_stats, inference, frozen) on numpy arrays of one dtype.")
      .def(py::init([](int64_t num_features, double eps, const py::object& momentum, bool affine,
                       bool track_running_stats, const py::handle& layout,
                       const py::handle& backend, const py::handle& activation, bool check_finite,
                       bool gradient_through_stats, const py::object& dtype) {
             constexpr std::string_view op = "BatchNorm";
             BatchNormOptions o{.num_features = num_features,
                                .eps = eps,
                                .momentum = momentum.is_none()
                                                ? std::nullopt
                                                : std::optional<double>(momentum.cast<double>()),
                                .affine = affine,
                                .track_running_stats = track_running_stats,
                                .layout = parse_layout(layout, op),
                                .backend = parse_backend(backend, op),
                                .activation = parse_activation(activation, op),
                                .check_finite = check_finite,
                                .gradient_through_stats = gradient_through_stats};
             const py::dtype dt = py::dtype::from_args(dtype);
             const bool f32 = dt.equal(py::dtype::of<float>());
             if (!f32 && !dt.equal(py::dtype::of<double>())) {
               fail_type(op, "expected dtype float32 or float64, got " +
                                 dt.attr("name").cast<std::string>());
             }
             return PyBatchNorm(o, f32 ? DType::kFloat32 : DType::kFloat64);
           }),
           arg("num_features"), py::kw_only(), arg("eps") = 1e-5, arg("momentum") = 0.1,
           arg("affine") = true, arg("track_running_stats") = true,
           arg("layout") = "channels_first", arg("backend") = "auto", arg("activation") = "none",
           arg("check_finite") = false, arg("gradient_through_stats") = true,
           arg("dtype") = "float32")
      .def("forward", &forward, arg("x"), arg("mode") = "train", py::kw_only(),
           arg("out") = py::none(),
           "y = BN(x) in `mode`; x in the module's layout and dtype. Saves what backward needs.")
      .def("__call__", &forward, arg("x"), arg("mode") = "train", py::kw_only(),
           arg("out") = py::none())
      .def("backward", &backward, arg("x"), arg("dy"), py::kw_only(), arg("dx") = py::none(),
           arg("compute_dx") = true,
           "Gradient of the last forward (x must be its input). Returns dx (None without "
           "compute_dx); accumulates into grad_gamma and grad_beta.")
      .def_property_readonly("gamma", view_property([](auto& bn) { return bn.gamma(); }))
      .def_property_readonly("beta", view_property([](auto& bn) { return bn.beta(); }))
      .def_property_readonly("grad_gamma", view_property([](auto& bn) { return bn.grad_gamma(); }))
      .def_property_readonly("grad_beta", view_property([](auto& bn) { return bn.grad_beta(); }))
      .def_property_readonly("running_mean",
                             view_property([](auto& bn) { return bn.running_mean(); }))
      .def_property_readonly("running_var",
                             view_property([](auto& bn) { return bn.running_var(); }))
      .def_property(
          "num_batches_tracked",
          [](PyBatchNorm& m) { return m.visit([](auto& bn) { return bn.num_batches_tracked(); }); },
          [](PyBatchNorm& m, int64_t n) {
            m.visit([n](auto& bn) { bn.set_num_batches_tracked(n); });
          })
      .def("zero_grad", [](PyBatchNorm& m) { m.visit([](auto& bn) { bn.zero_grad(); }); })
      .def("reset_running_stats",
           [](PyBatchNorm& m) { m.visit([](auto& bn) { bn.reset_running_stats(); }); })
      .def_property_readonly(
          "batch_moments",
          [](PyBatchNorm& m) {
            return m.visit([](auto& bn) {
              const auto s = bn.batch_moments();
              py::array out(moments_dtype(),
                            std::vector<py::ssize_t>{static_cast<py::ssize_t>(s.size())});
              std::copy(s.begin(), s.end(), static_cast<Moments*>(out.mutable_data()));
              return out;
            });
          },
          "Moments [C] (moments_dtype) of the last forward in a batch mode (a copy).")
      .def("inference_affine",
           [](PyBatchNorm& m) { return m.visit([](auto& bn) { return bn.inference_affine(); }); })
      .def(
          "begin_population_estimate",
          [](PyBatchNorm& m) { m.visit([](auto& bn) { bn.begin_population_estimate(); }); },
          "Algorithm 2: from now on forward(mode='batch_stats') records batch moments.")
      .def(
          "end_population_estimate",
          [](PyBatchNorm& m) {
            return m.visit([](auto& bn) { return bn.end_population_estimate(); });
          },
          "Sets the running statistics to the recorded batches' averages; returns their count.")
      .def_property_readonly("dtype",
                             [](const PyBatchNorm& m) {
                               return m.is_float32() ? py::dtype::of<float>()
                                                     : py::dtype::of<double>();
                             })
      .def_property_readonly("num_features",
                             [](const PyBatchNorm& m) { return m.options().num_features; })
      .def_property_readonly("eps", [](const PyBatchNorm& m) { return m.options().eps; })
      .def_property_readonly("momentum", [](const PyBatchNorm& m) { return m.options().momentum; })
      .def_property_readonly("affine", [](const PyBatchNorm& m) { return m.options().affine; })
      .def_property_readonly("track_running_stats",
                             [](const PyBatchNorm& m) { return m.options().track_running_stats; })
      .def_property_readonly("layout", [](const PyBatchNorm& m) { return m.options().layout; })
      .def_property_readonly("backend", [](const PyBatchNorm& m) { return m.options().backend; })
      .def_property_readonly("activation",
                             [](const PyBatchNorm& m) { return m.options().activation; })
      .def_property_readonly("check_finite",
                             [](const PyBatchNorm& m) { return m.options().check_finite; })
      .def_property_readonly("gradient_through_stats", [](const PyBatchNorm& m) {
        return m.options().gradient_through_stats;
      });
}

}  // namespace bnorm::python
