// The extension module bnorm._bnorm: enums, the Error exception (a ValueError), Moments and
// AffineMap, then the functional API (functional.cpp), the BatchNorm module (batch_norm.cpp) and
// bnorm.torch's private entry points (torch_support.cpp).
// The Python package bnorm (python/bnorm/__init__.py) re-exports all of it.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "arrays.hpp"

namespace bnorm::python {

void bind_functional(py::module_& m);
void bind_batch_norm(py::module_& m);
void bind_torch_support(py::module_& m);

namespace {

void bind_types(py::module_& m) {
  py::register_exception<Error>(m, "Error", PyExc_ValueError);
  py::enum_<Layout>(m, "Layout")
      .value("nc", Layout::kNC)
      .value("channels_first", Layout::kChannelsFirst)
      .value("channels_last", Layout::kChannelsLast);
  py::enum_<Backend>(m, "Backend")
      .value("auto", Backend::kAuto)
      .value("reference", Backend::kReference)
      .value("optimized", Backend::kOptimized);
  py::enum_<Activation>(m, "Activation")
      .value("none", Activation::kNone)
      .value("relu", Activation::kRelu);
  py::enum_<StatsGradient>(m, "StatsGradient")
      .value("through_batch_stats", StatsGradient::kThroughBatchStats)
      .value("stats_as_constants", StatsGradient::kStatsAsConstants);
  py::enum_<Mode>(m, "Mode")
      .value("train", Mode::kTrain)
      .value("batch_stats", Mode::kBatchStats)
      .value("inference", Mode::kInference)
      .value("frozen", Mode::kFrozen);

  py::class_<Moments>(m, "Moments", "Mergeable batch statistics (count, mean, M2).")
      .def(py::init([](int64_t count, double mean, double m2) {
             return Moments{count, mean, m2};
           }),
           py::arg("count") = 0, py::arg("mean") = 0.0, py::arg("m2") = 0.0)
      .def_readwrite("count", &Moments::count)
      .def_readwrite("mean", &Moments::mean)
      .def_readwrite("m2", &Moments::m2)
      .def("variance", &Moments::variance, "Biased variance M2 / count.")
      .def("unbiased_variance", &Moments::unbiased_variance, "Unbiased variance M2 / (count - 1).")
      .def("__repr__", [](const Moments& mo) {
        return "Moments(count=" + std::to_string(mo.count) +
               ", mean=" + py::repr(py::float_(mo.mean)).cast<std::string>() +
               ", m2=" + py::repr(py::float_(mo.m2)).cast<std::string>() + ")";
      });
  m.attr("moments_dtype") = moments_dtype();
  m.def("merge", py::overload_cast<const Moments&, const Moments&>(&merge), py::arg("a"),
        py::arg("b"), "Moments of a and b together (Chan, Golub & LeVeque).");
  m.def(
      "merge",
      [](const py::handle& a, const py::handle& b) {
        py::array ka, kb;
        const auto sa = moments_input(a, &ka, "merge");
        const auto sb = moments_input(b, &kb, "merge");
        if (sa.size() != sb.size()) {
          fail_value("merge", "expected moments of equal length, got " + std::to_string(sa.size()) +
                                  " and " + std::to_string(sb.size()));
        }
        py::array out = moments_output(py::none(), static_cast<py::ssize_t>(sa.size()), "merge");
        auto* o = static_cast<Moments*>(out.mutable_data());
        for (size_t i = 0; i < sa.size(); ++i) o[i] = merge(sa[i], sb[i]);
        return out;
      },
      py::arg("a"), py::arg("b"), "Per-channel merge of two moments arrays (moments_dtype).");
  m.def(
      "moments_of",
      [](const py::handle& values) {
        auto v = input_array<double>(values, "moments_of", "values");
        return moments_of(const_span(v));
      },
      py::arg("values"), "Moments of all values of an array, in float64, two passes.");

  py::class_<AffineMap>(m, "AffineMap", "Inference as y = scale * x + shift per channel.")
      .def_property_readonly(
          "scale",
          [](const AffineMap& a) { return py::array_t<double>(a.scale.size(), a.scale.data()); })
      .def_property_readonly("shift", [](const AffineMap& a) {
        return py::array_t<double>(a.shift.size(), a.shift.data());
      });
}

}  // namespace
}  // namespace bnorm::python

PYBIND11_MODULE(_bnorm, m) {
  m.doc() = "bnorm's C++ BatchNorm on numpy arrays (import bnorm rather than this module)";
  bnorm::python::bind_types(m);
  bnorm::python::bind_functional(m);
  bnorm::python::bind_batch_norm(m);
  bnorm::python::bind_torch_support(m);
}
