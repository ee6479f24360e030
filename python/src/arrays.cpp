// numpy arrays at the Python boundary (see arrays.hpp).
#include "arrays.hpp"

#include <cstddef>
#include <initializer_list>
#include <sstream>
#include <utility>

namespace bnorm::python {
namespace {

std::string shape_string(const std::vector<py::ssize_t>& shape) {
  std::ostringstream out;
  out << '(';
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << (shape.size() == 1 ? ",)" : ")");
  return out.str();
}

std::string shape_string(const py::array& a) {
  return shape_string(std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim()));
}

std::string dtype_string(const py::handle& a) {
  if (py::isinstance<py::array>(a)) return py::str(a.attr("dtype")).cast<std::string>();
  return "a " + py::str(py::type::handle_of(a).attr("__name__")).cast<std::string>();
}

template <typename E>
E parse_enum(const py::handle& v, std::string_view op, std::string_view what,
             std::initializer_list<std::pair<std::string_view, E>> names) {
  // The list of choices is built only for an error: this runs on every call.
  const auto choices_of = [&names] {
    std::string choices;
    for (const auto& [name, value] : names)
      choices += (choices.empty() ? "'" : ", '") + std::string(name) + "'";
    return choices;
  };
  if (py::isinstance<py::str>(v)) {
    const auto s = v.cast<std::string_view>();
    for (const auto& [name, value] : names) {
      if (s == name) return value;
    }
    const std::string choices = choices_of();
    fail_value(op, "expected " + std::string(what) + " to be one of " + choices + ", got '" +
                       std::string(s) + "'");
  }
  try {
    return v.cast<E>();
  } catch (const py::cast_error&) {
    const std::string choices = choices_of();
    fail_type(op, "expected " + std::string(what) + " as a string (" + choices +
                      ") or a bnorm enum value, got " + dtype_string(v));
  }
}

}  // namespace

void fail_value(std::string_view op, const std::string& what) {
  throw Error("[" + std::string(op) + "] " + what);
}

void fail_type(std::string_view op, const std::string& what) {
  throw py::type_error("[" + std::string(op) + "] " + what);
}

DType dtype_of(const py::handle& x, std::string_view op, std::string_view name) {
  if (!py::isinstance<py::array>(x)) {
    fail_type(op, "expected " + std::string(name) +
                      " to be a numpy array of float32 or float64, got " + dtype_string(x));
  }
  const auto dt = py::reinterpret_borrow<py::array>(x).dtype();
  if (dt.equal(py::dtype::of<float>())) return DType::kFloat32;
  if (dt.equal(py::dtype::of<double>())) return DType::kFloat64;
  fail_type(
      op, "expected " + std::string(name) + " of dtype float32 or float64, got " + dtype_string(x));
}

TensorDesc desc_of(const py::array& x, Layout layout) {
  return desc_of_shape(std::vector<int64_t>(x.shape(), x.shape() + x.ndim()), layout);
}

TensorDesc desc_of_shape(std::vector<int64_t> shape, Layout layout) {
  TensorDesc desc{.dims = std::move(shape), .layout = layout};
  // (N, spatial..., C) -> [N, C, spatial...]; too few dims are left for extents_of to report.
  if (layout == Layout::kChannelsLast && desc.dims.size() >= 2) {
    const int64_t c = desc.dims.back();
    desc.dims.pop_back();
    desc.dims.insert(desc.dims.begin() + 1, c);
  }
  return desc;
}

std::vector<py::ssize_t> shape_of(const TensorDesc& desc) {
  std::vector<py::ssize_t> shape(desc.dims.begin(), desc.dims.end());
  if (desc.layout == Layout::kChannelsLast && shape.size() >= 2) {
    const py::ssize_t c = shape[1];
    shape.erase(shape.begin() + 1);
    shape.push_back(c);
  }
  return shape;
}

template <typename T>
py::array_t<T> input_array(const py::handle& a, std::string_view op, std::string_view name) {
  if (!py::isinstance<py::array>(a)) {
    fail_type(op, "expected " + std::string(name) + " to be a numpy array, got " + dtype_string(a));
  }
  const auto arr = py::reinterpret_borrow<py::array>(a);
  if (arr.dtype().kind() != 'f') {
    fail_type(op, "expected " + std::string(name) +
                      " of a floating dtype (float32 or float64), got " + dtype_string(a));
  }
  // A C-contiguous array of T passes through; anything else is copied into one.
  return py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(arr);
}

template <typename T>
std::span<const T> channel_input(const py::handle& a, py::array_t<T>* keep, std::string_view op,
                                 std::string_view name) {
  if (a.is_none()) return {};
  *keep = input_array<T>(a, op, name);
  if (keep->ndim() != 1) {
    fail_value(op, "expected " + std::string(name) +
                       " to be 1-D (one value per channel), got shape " + shape_string(*keep));
  }
  return const_span(*keep);
}

template <typename T>
py::array_t<T> output_array(const py::handle& out, const std::vector<py::ssize_t>& shape,
                            std::string_view op, std::string_view name) {
  if (out.is_none()) return py::array_t<T>(shape);
  if (!py::isinstance<py::array>(out)) {
    fail_type(op, "expected " + std::string(name) + " to be a numpy array or None, got " +
                      dtype_string(out));
  }
  auto arr = py::reinterpret_borrow<py::array>(out);
  if (!arr.dtype().equal(py::dtype::of<T>())) {
    fail_type(op, "expected " + std::string(name) + " of dtype " + std::string(dtype_name<T>()) +
                      " (the input's), got " + dtype_string(out));
  }
  const std::vector<py::ssize_t> got(arr.shape(), arr.shape() + arr.ndim());
  if (got != shape) {
    fail_value(op, "expected " + std::string(name) + " of shape " + shape_string(shape) + ", got " +
                       shape_string(arr));
  }
  if (!(arr.flags() & py::array::c_style)) {
    fail_value(op, "expected " + std::string(name) +
                       " to be C-contiguous (outputs are written in place, never copied), got "
                       "strides that are not");
  }
  if (!arr.writeable()) {
    fail_value(op, "expected " + std::string(name) + " to be writable, got a read-only array");
  }
  return py::reinterpret_borrow<py::array_t<T>>(out);
}

py::dtype moments_dtype() {
  static_assert(sizeof(Moments) == 24 && offsetof(Moments, count) == 0 &&
                offsetof(Moments, mean) == 8 && offsetof(Moments, m2) == 16);
  py::list names, formats, offsets;
  names.append("count"), names.append("mean"), names.append("m2");
  formats.append(py::dtype::of<int64_t>()), formats.append(py::dtype::of<double>());
  formats.append(py::dtype::of<double>());
  offsets.append(0), offsets.append(8), offsets.append(16);
  return py::dtype(names, formats, offsets, static_cast<py::ssize_t>(sizeof(Moments)));
}

py::array moments_output(const py::handle& out, py::ssize_t c, std::string_view op) {
  const auto dt = moments_dtype();
  if (out.is_none()) return py::array(dt, std::vector<py::ssize_t>{c});
  if (!py::isinstance<py::array>(out) ||
      !py::reinterpret_borrow<py::array>(out).dtype().equal(dt)) {
    fail_type(op,
              "expected moments to be an array of bnorm.moments_dtype, got " + dtype_string(out));
  }
  auto arr = py::reinterpret_borrow<py::array>(out);
  if (arr.ndim() != 1 || arr.shape(0) != c || !(arr.flags() & py::array::c_style) ||
      !arr.writeable()) {
    fail_value(op, "expected moments to be a writable contiguous array of shape (" +
                       std::to_string(c) + ",), got shape " + shape_string(arr));
  }
  return arr;
}

std::span<const Moments> moments_input(const py::handle& a, py::array* keep, std::string_view op) {
  const auto dt = moments_dtype();
  if (!py::isinstance<py::array>(a) || !py::reinterpret_borrow<py::array>(a).dtype().equal(dt)) {
    fail_type(op,
              "expected moments as an array of bnorm.moments_dtype (what forward_train "
              "returns), got " +
                  dtype_string(a));
  }
  auto arr = py::reinterpret_borrow<py::array>(a);
  if (arr.ndim() != 1) {
    fail_value(op, "expected 1-D moments (one per channel), got shape " + shape_string(arr));
  }
  // Aligned and contiguous (np.ascontiguousarray keeps the structured dtype).
  *keep = py::module_::import("numpy").attr("ascontiguousarray")(arr);
  return {static_cast<const Moments*>(keep->data()), static_cast<size_t>(keep->size())};
}

Layout parse_layout(const py::handle& v, std::string_view op) {
  return parse_enum<Layout>(v, op, "layout",
                            {{"channels_first", Layout::kChannelsFirst},
                             {"channels_last", Layout::kChannelsLast},
                             {"nc", Layout::kNC}});
}

Backend parse_backend(const py::handle& v, std::string_view op) {
  return parse_enum<Backend>(v, op, "backend",
                             {{"auto", Backend::kAuto},
                              {"reference", Backend::kReference},
                              {"optimized", Backend::kOptimized}});
}

Activation parse_activation(const py::handle& v, std::string_view op) {
  if (v.is_none()) return Activation::kNone;
  return parse_enum<Activation>(v, op, "activation",
                                {{"none", Activation::kNone}, {"relu", Activation::kRelu}});
}

StatsGradient parse_stats_gradient(const py::handle& v, std::string_view op) {
  return parse_enum<StatsGradient>(v, op, "stats_gradient",
                                   {{"through_batch_stats", StatsGradient::kThroughBatchStats},
                                    {"stats_as_constants", StatsGradient::kStatsAsConstants}});
}

Mode parse_mode(const py::handle& v, std::string_view op) {
  return parse_enum<Mode>(v, op, "mode",
                          {{"train", Mode::kTrain},
                           {"batch_stats", Mode::kBatchStats},
                           {"inference", Mode::kInference},
                           {"frozen", Mode::kFrozen}});
}

template <typename T>
BackwardInputs<T> backward_inputs(const py::handle& x, const py::handle& dy, Layout layout,
                                  std::string_view op) {
  BackwardInputs<T> in{.x = input_array<T>(x, op, "x"), .dy = input_array<T>(dy, op, "dy")};
  in.desc = desc_of(in.x, layout);
  const std::vector<py::ssize_t> dy_shape(in.dy.shape(), in.dy.shape() + in.dy.ndim());
  if (dy_shape != shape_of(in.desc)) fail_value(op, "expected dy of x's shape, got another shape");
  in.channels = in.desc.dims.size() >= 2 ? static_cast<py::ssize_t>(in.desc.dims[1]) : 0;
  return in;
}

#define BNORM_PY_INSTANTIATE(T)                                                                  \
  template py::array_t<T> input_array<T>(const py::handle&, std::string_view, std::string_view); \
  template std::span<const T> channel_input<T>(const py::handle&, py::array_t<T>*,               \
                                               std::string_view, std::string_view);              \
  template py::array_t<T> output_array<T>(const py::handle&, const std::vector<py::ssize_t>&,    \
                                          std::string_view, std::string_view);                   \
  template BackwardInputs<T> backward_inputs<T>(const py::handle&, const py::handle&, Layout,    \
                                                std::string_view);

BNORM_PY_INSTANTIATE(float)
BNORM_PY_INSTANTIATE(double)

}  // namespace bnorm::python
