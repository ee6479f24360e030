// The geometry a conv-net layer gives to the engine's flat rows: each row of an [N, features]
// tensor holds one image as C x H x W floats (channels-first, row-major), features = C * H * W.
#pragma once

#include <cstdint>

namespace bnorm::nn {

struct ImageShape {
  int64_t c = 1, h = 1, w = 1;
  int64_t numel() const { return c * h * w; }
};

}  // namespace bnorm::nn
