// What `bnorm bench` measures: shapes, ops and the data of one BatchNorm problem, with the
// reference outputs every contender is checked against before it is timed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bnorm/layout.hpp"
#include "bnorm/moments.hpp"

namespace bnorm::bench {

enum class Op { kForwardTrain, kForwardInfer, kBackward };

// The element type of x, y, dy, dx: float32, or bfloat16 with float32 parameters and statistics.
enum class DType { kFloat32, kBfloat16 };

std::string_view to_string(DType dtype);         // "f32", "bf16"
DType dtype_from_string(std::string_view name);  // throws bnorm::Error naming the valid ones
double element_bytes(DType dtype);               // 4, 2

std::string_view to_string(Op op);            // "fwd_train", "fwd_infer", "backward"
Op op_from_string(std::string_view name);     // throws bnorm::Error naming the valid ops
std::string_view layout_name(Layout layout);  // "nc", "nchw", "nhwc"

// A named shape in logical PyTorch order: [N, C] (FC) or [N, C, H, W] (conv).
struct Shape {
  std::string name;  // e.g. "fc_256x1024", "conv_32x64x56x56"
  std::vector<int64_t> dims;

  // The layouts the shape is benchmarked in: nc for 2-D, nchw and nhwc for 4-D.
  std::vector<Layout> layouts() const;
  int64_t numel() const;  // throws bnorm::Error when N*C*H*W overflows int64
};

// The product of dims, or nullopt when it overflows int64.
std::optional<int64_t> checked_numel(const std::vector<int64_t>& dims);

// The shapes: FC 256x1024 and 60x100, conv 32x64x56x56 and 64x256x14x14, and the
// out-of-cache 64x128x56x56.
std::vector<Shape> default_shapes();
// A few small shapes for a smoke run.
std::vector<Shape> quick_shapes();
// One shape from "fc_256x1024" / "conv_32x64x56x56" (the defaults) or plain dims "NxC" /
// "NxCxHxW". Throws bnorm::Error with the accepted forms.
Shape parse_shape(std::string_view text);

// Minimum compulsory memory traffic of one call: forward reads x and writes y (8 B per float
// element, 4 B per bfloat16 one); backward reads x and dy and writes dx (12 B; 6 B). Per-channel
// arrays are not counted.
double compulsory_bytes(Op op, int64_t numel, DType dtype = DType::kFloat32);

// What an op produces: y for the forwards; dx, dgamma [C] and dbeta [C] for backward.
struct Outputs {
  std::vector<float> y;
  std::vector<float> dx;
  std::vector<float> dgamma;
  std::vector<float> dbeta;
};

// One problem's inputs, in the memory order of `layout`, and its reference outputs.
struct Problem {
  Shape shape;
  Layout layout = Layout::kChannelsFirst;
  Op op = Op::kForwardTrain;
  DType dtype = DType::kFloat32;  // bfloat16: x and dy below hold bfloat16 values exactly
  double eps = 1e-5;
  double momentum = 0.1;

  std::vector<float> x;             // [N, C, (H, W)] in layout order
  std::vector<float> dy;            // same as x; backward only
  std::vector<float> gamma, beta;   // [C]
  std::vector<float> running_mean;  // [C]: fwd_infer normalizes with these
  std::vector<float> running_var;   // [C]
  std::vector<double> save_mean;    // [C]: backward's batch statistics, from the reference
  std::vector<double> save_invstd;  // [C]  training forward on x
  Outputs reference;                // bnorm's reference kernels on the inputs above

  TensorDesc desc() const { return {.dims = shape.dims, .layout = layout}; }
  int64_t channels() const { return shape.dims[1]; }
};

// Deterministic inputs (offset from zero, so a kernel that mishandles the mean shows) and the
// reference outputs, computed in float64 from the inputs (for bfloat16, from x and dy rounded to
// bfloat16; outputs not rounded).
Problem make_problem(const Shape& shape, Layout layout, Op op, uint64_t seed = 42,
                     DType dtype = DType::kFloat32);

// The tolerance compare_outputs checks a contender with: float32 arithmetic's, or one bfloat16
// rounding of the outputs (2^-8 of the value, with room for a float32 ulp near ties).
double output_tolerance(DType dtype);

}  // namespace bnorm::bench
