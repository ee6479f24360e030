// numpy arrays at the Python boundary: dtype and layout checks, the TensorDesc an array's shape
// describes, spans over array memory (no copies of contiguous inputs), and enum arguments given as
// strings. Errors raise TypeError (wrong dtype or type) or bnorm.Error (a ValueError).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "bnorm/bnorm.hpp"

namespace bnorm::python {

namespace py = pybind11;

// Raises bnorm.Error (a ValueError) with "[op] " prefixed, like the library's own checks.
[[noreturn]] void fail_value(std::string_view op, const std::string& what);
// Raises TypeError with "[op] " prefixed.
[[noreturn]] void fail_type(std::string_view op, const std::string& what);

enum class DType { kFloat32, kFloat64 };

// x's dtype; TypeError unless x is a numpy array of float32 or float64.
DType dtype_of(const py::handle& x, std::string_view op, std::string_view name);

template <typename T>
constexpr std::string_view dtype_name() {
  return sizeof(T) == 4 ? "float32" : "float64";
}

// The logical [N, C, spatial...] description of an array laid out in `layout`: channels-first
// and kNC arrays have shape (N, C, ...); channels-last arrays have shape (N, spatial..., C).
TensorDesc desc_of(const py::array& x, Layout layout);
TensorDesc desc_of_shape(std::vector<int64_t> shape, Layout layout);
// The numpy shape of a tensor described by desc (the inverse of desc_of).
std::vector<py::ssize_t> shape_of(const TensorDesc& desc);

// A C-contiguous array of T holding `a`: `a` itself when it already is one (no copy), else a copy.
// TypeError for non-floating dtypes; other floating dtypes are converted.
template <typename T>
py::array_t<T> input_array(const py::handle& a, std::string_view op, std::string_view name);

// The x and dy of a backward call: arrays of T (as input_array), x's description in `layout` and
// its channel count. ValueError unless dy has x's shape.
template <typename T>
struct BackwardInputs {
  py::array_t<T> x, dy;
  TensorDesc desc;
  py::ssize_t channels = 0;
};
template <typename T>
BackwardInputs<T> backward_inputs(const py::handle& x, const py::handle& dy, Layout layout,
                                  std::string_view op);

// An optional per-channel input [C] (None gives an empty span); `keep` holds the array alive.
template <typename T>
std::span<const T> channel_input(const py::handle& a, py::array_t<T>* keep, std::string_view op,
                                 std::string_view name);

// An output array: `out` when given (it must be a writable C-contiguous array of T with exactly
// `shape`; it is never reallocated or converted), else a new array of that shape.
template <typename T>
py::array_t<T> output_array(const py::handle& out, const std::vector<py::ssize_t>& shape,
                            std::string_view op, std::string_view name);

template <typename T>
std::span<const T> const_span(const py::array_t<T>& a) {
  return {a.data(), static_cast<size_t>(a.size())};
}
template <typename T>
std::span<T> mutable_span(py::array_t<T>& a) {
  return {a.mutable_data(), static_cast<size_t>(a.size())};
}

// numpy's view of bnorm::Moments: a structured dtype {count: int64, mean: float64, m2: float64}
// with the struct's exact layout, so per-channel moments pass without conversion.
py::dtype moments_dtype();
py::array moments_output(const py::handle& out, py::ssize_t c, std::string_view op);
std::span<const Moments> moments_input(const py::handle& a, py::array* keep, std::string_view op);

// Enum arguments: the enum value itself or its name as a string ("channels_last", "relu").
Layout parse_layout(const py::handle& v, std::string_view op);
Backend parse_backend(const py::handle& v, std::string_view op);
Activation parse_activation(const py::handle& v, std::string_view op);
StatsGradient parse_stats_gradient(const py::handle& v, std::string_view op);
Mode parse_mode(const py::handle& v, std::string_view op);

}  // namespace bnorm::python
