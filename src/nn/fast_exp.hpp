// exp(x) for float arrays, written so the compiler vectorizes it: Cody-Waite range reduction
// x = n ln2 + r, |r| <= ln2/2, then the Cephes expf polynomial (a few ulp from std::exp over the
// clamped range). Inputs are clamped to [-87, 88], where exp stays a normal float; sigmoid and
// softmax, the only users, do not need more.
#pragma once

#include <span>

namespace bnorm::nn {

// out[i] = exp(in[i]) (in and out may be the same span).
void exp_array(std::span<const float> in, std::span<float> out);

// Single value, the same arithmetic (for tests and scalar loops).
float fast_exp(float x);

}  // namespace bnorm::nn
