// What `bnorm bench` checks before a run: shapes whose element count overflows, and runs whose
// buffers would not fit in memory (checked against a given physical size, so nothing is allocated).
#include "run_limits.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "bnorm/error.hpp"
#include "problem.hpp"
#include "runner.hpp"

namespace bnorm::bench {
namespace {

constexpr uint64_t kGiB = uint64_t{1} << 30;

std::string message_of(const BenchOptions& o, uint64_t physical) {
  try {
    check_fits_in_memory(o, physical);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

BenchOptions small_run() {
  BenchOptions o;
  o.shapes = {parse_shape("60x100")};
  o.cold_mib = 8;
  o.stream_bytes = size_t{4} << 20;
  return o;
}

TEST(RunLimits, ShapeWhoseElementCountOverflowsIsRefusedByName) {
  for (const char* text : {"4294967296x4294967296", "9999999999x9999999999",
                           "3037000500x3037000500", "65536x65536x65536x65536"}) {
    try {
      parse_shape(text);
      ADD_FAILURE() << text << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("fits in 64 bits"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
  }
  EXPECT_FALSE(checked_numel({4294967296, 4294967296}));
  EXPECT_EQ(checked_numel({3037000499, 3037000499}), int64_t{3037000499} * 3037000499);
  EXPECT_THROW((Shape{.name = "wide", .dims = {int64_t{1} << 32, int64_t{1} << 32}}.numel()),
               Error);
}

TEST(RunLimits, SmallRunFits) { EXPECT_EQ(message_of(small_run(), 4 * kGiB), ""); }

TEST(RunLimits, HugeShapeNamesTheMemoryAndTheFix) {
  BenchOptions o = small_run();
  o.shapes.push_back(parse_shape("1000000x1000000"));
  const std::string m = message_of(o, 16 * kGiB);
  EXPECT_NE(m.find("physical memory, 16.0 GiB"), std::string::npos) << m;
  EXPECT_NE(m.find("--shapes"), std::string::npos) << m;
  // Without the contenders' copies the same shape still needs 20 B per element.
  o.with_torch = o.with_onednn = false;
  EXPECT_NE(message_of(o, 16 * kGiB), "");
}

TEST(RunLimits, ColdBuffersCountOncePerContender) {
  BenchOptions o = small_run();
  o.cold_mib = 1024;  // 5 contenders x 1 GiB
  EXPECT_NE(message_of(o, 4 * kGiB).find("--cold-mib"), std::string::npos);
  o.with_torch = o.with_onednn = false;  // bnorm's buffer only
  EXPECT_EQ(message_of(o, 4 * kGiB), "");
  // bnorm with each ISA forced holds a buffer of its own.
  o.bnorm_isas = {kernels::CpuIsa::kAvx512, kernels::CpuIsa::kAvx2, kernels::CpuIsa::kScalar};
  EXPECT_NE(message_of(o, 4 * kGiB).find("--cold-mib"), std::string::npos);
}

TEST(RunLimits, StreamArraysAreThreeTimesStreamMib) {
  BenchOptions o = small_run();
  o.stream_bytes = size_t{2} << 30;  // 6 GiB in all
  const std::string m = message_of(o, 4 * kGiB);
  EXPECT_NE(m.find("--stream-mib 2048"), std::string::npos) << m;
  EXPECT_EQ(message_of(o, 8 * kGiB), "");
}

TEST(RunLimits, PhysicalMemoryIsKnownHere) { EXPECT_GT(physical_memory_bytes(), 64u << 20); }

}  // namespace
}  // namespace bnorm::bench
