// Validation of tensor descriptions and their reduction to (N, C, S) extents.
#include "bnorm/layout.hpp"

#include <limits>
#include <sstream>

#include "check.hpp"

namespace bnorm {

std::string_view to_string(Layout layout) {
  switch (layout) {
    case Layout::kNC:
      return "kNC";
    case Layout::kChannelsFirst:
      return "kChannelsFirst";
    case Layout::kChannelsLast:
      return "kChannelsLast";
  }
  return "unknown";
}

namespace {
std::string dims_string(const std::vector<int64_t>& dims) {
  std::ostringstream out;
  out << '[';
  for (size_t i = 0; i < dims.size(); ++i) out << (i ? ", " : "") << dims[i];
  out << ']';
  return out.str();
}
}  // namespace

Extents extents_of(const TensorDesc& desc, std::string_view op) {
  // Messages are built only on failure (dims_string allocates): this runs on every call, and a
  // small layer's whole BatchNorm takes about a microsecond.
  const auto& d = desc.dims;
  if (desc.layout == Layout::kNC) {
    if (d.size() != 2) {
      detail::fail(op, "expected 2 dims [N, C] for Layout::kNC, got ", d.size(), " dims ",
                   dims_string(d),
                   "; use Layout::kChannelsFirst or kChannelsLast for N x C x spatial");
    }
  } else if (d.size() < 2) {
    detail::fail(op, "expected at least 2 dims [N, C, spatial...], got ", d.size(), " dims ",
                 dims_string(d));
  }
  int64_t total = 1;
  for (size_t i = 0; i < d.size(); ++i) {
    if (d[i] <= 0) {
      detail::fail(op, "expected every dim > 0, got dims ", dims_string(d),
                   " (empty tensors have no statistics)");
    }
    if (total > std::numeric_limits<int64_t>::max() / d[i]) {
      detail::fail(op, "expected fewer than 2^63 elements, got dims ", dims_string(d));
    }
    total *= d[i];
  }
  Extents e;
  e.n = d[0];
  e.c = d[1];
  e.s = total / (e.n * e.c);
  e.layout = desc.layout;
  return e;
}

}  // namespace bnorm
