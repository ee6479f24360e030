// bnorm::bfloat16: the 2-byte storage type of bfloat16 tensors (the upper half of a float32: sign,
// 8 exponent bits, 7 mantissa bits). It holds values; arithmetic happens in float32 or float64
// after an explicit conversion, as in PyTorch's and oneDNN's mixed precision. It does not rely on
// the compiler's __bf16, so any C++20 compiler can use it.
#pragma once

#include <bit>
#include <cstdint>
#include <type_traits>

namespace bnorm {

struct bfloat16 {
  // The upper 16 bits of the float32 with the same value. Uninitialized by default, as a float is
  // (bfloat16{} and std::vector<bfloat16>(n) hold +0): a trivial type, copied as bytes.
  std::uint16_t bits;

  bfloat16() = default;

  // Rounds to nearest, ties to even (as PyTorch, oneDNN and AVX512_BF16's vcvtneps2bf16); a NaN
  // stays a (quiet) NaN, infinities and overflow beyond the largest bfloat16 become infinities.
  // Subnormal floats round like any other value (no flush to zero).
  explicit bfloat16(float v) : bits(round_bits(std::bit_cast<std::uint32_t>(v))) {}

  // Rounds a double once, to nearest even: through a float rounded to odd, which a second
  // rounding to 8 significant bits cannot turn into a double rounding.
  explicit bfloat16(double v) : bfloat16(to_float_round_odd(v)) {}
  explicit bfloat16(int v) : bfloat16(static_cast<double>(v)) {}

  // Exact: every bfloat16 is a float.
  explicit operator float() const {
    return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
  }
  explicit operator double() const { return static_cast<double>(static_cast<float>(*this)); }

  static bfloat16 from_bits(std::uint16_t b) {
    bfloat16 h{};
    h.bits = b;
    return h;
  }

  // Bitwise equality (so +0 != -0 and a NaN equals itself): storage, not arithmetic.
  friend bool operator==(bfloat16 a, bfloat16 b) { return a.bits == b.bits; }

 private:
  static std::uint16_t round_bits(std::uint32_t u) {
    if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | 0x40u);
    return static_cast<std::uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
  }
  static float to_float_round_odd(double v) {
    float f = static_cast<float>(v);  // to nearest
    if (static_cast<double>(f) == v || f != f) return f;
    std::uint32_t u = std::bit_cast<std::uint32_t>(f);
    // Toward zero when rounding went away from it (|f| > |v|; also from overflow to inf), then
    // the last bit set: the float is inexact and odd.
    const double fd = static_cast<double>(f);
    if ((fd < 0 ? -fd : fd) > (v < 0 ? -v : v)) --u;
    return std::bit_cast<float>(u | 1u);
  }
};

static_assert(sizeof(bfloat16) == 2 && std::is_trivial_v<bfloat16>,
              "bfloat16 must be two trivial bytes: tensors are arrays of it");

}  // namespace bnorm
