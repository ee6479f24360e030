// How a tensor handed to BatchNorm is described: logical dims in PyTorch order plus a memory
// layout. Every BatchNorm problem reduces to three extents: N samples, C channels and S spatial
// positions.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace bnorm {

// Memory layout of the input. Dims are always given in logical order [N, C, spatial...], as in
// PyTorch and oneDNN; the layout says how those elements sit in memory.
enum class Layout {
  kNC,             // 2-D [N, C], row-major. PyTorch BatchNorm1d on (N, C); oneDNN "nc".
  kChannelsFirst,  // [N, C, d1, d2, ...] contiguous. PyTorch's default (NCHW, NCDHW); oneDNN
                   // "nchw".
  kChannelsLast,   // stored as [N, d1, d2, ..., C]. PyTorch channels_last; oneDNN "nhwc".
};

std::string_view to_string(Layout layout);

// A tensor as BatchNorm sees it. dims[0] = N, dims[1] = C, dims[2..] = spatial extents.
struct TensorDesc {
  std::vector<int64_t> dims;
  Layout layout = Layout::kChannelsFirst;
};

// The three extents every kernel works on. Element (n, c, s) lives at
//   kNC, kChannelsFirst: (n * C + c) * S + s        kChannelsLast: (n * S + s) * C + c
struct Extents {
  int64_t n = 0;
  int64_t c = 0;
  int64_t s = 1;
  Layout layout = Layout::kChannelsFirst;

  int64_t numel() const { return n * c * s; }
  int64_t offset(int64_t in, int64_t ic, int64_t is) const {
    return layout == Layout::kChannelsLast ? (in * s + is) * c + ic : (in * c + ic) * s + is;
  }
  int64_t per_channel() const { return n * s; }  // M = N * spatial: values behind one statistic
  bool channels_last() const { return layout == Layout::kChannelsLast && s > 1; }
};

// Validates desc and reduces it to extents. Throws bnorm::Error prefixed with [op] when a dim is
// not positive, the rank does not fit the layout (kNC needs exactly 2 dims, the others at least 2),
// or the element count overflows int64.
Extents extents_of(const TensorDesc& desc, std::string_view op);

}  // namespace bnorm
