// The pieces of `bnorm bench` on their own: STREAM, statistics, the output check, shapes, and
// every in-process contender (bnorm, both oneDNN declarations) against the reference.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <vector>

#include "bnorm/error.hpp"
#include "bnorm/functional.hpp"
#include "contender.hpp"
#include "problem.hpp"
#include "runner.hpp"
#include "stats.hpp"
#include "stream.hpp"
#include "timer.hpp"
#include "torch_worker_path.hpp"
#include "verify.hpp"

namespace bnorm::bench {
namespace {

TEST(Stream, RatesArePositiveAndBelowAnyRealMachine) {
  const StreamResult s = measure_stream(1, size_t{4} << 20, 2);
  for (double gbs : {s.copy_gbs, s.scale_gbs, s.triad_gbs, s.scale_nt_gbs}) {
    EXPECT_TRUE(std::isfinite(gbs));
    EXPECT_GT(gbs, 0.05);
    EXPECT_LT(gbs, 10000.0);  // 10 TB/s: the timer or byte count would be broken
  }
  EXPECT_EQ(s.threads, 1);
  EXPECT_EQ(s.array_bytes, size_t{4} << 20);
}

TEST(Stream, TwoThreadsGiveTheSameResult) {
  // measure_stream checks the arrays' final values itself and throws when they are wrong.
  EXPECT_NO_THROW(measure_stream(2, size_t{1} << 20, 3));
}

TEST(Stream, RejectsEmptyArrays) { EXPECT_THROW(measure_stream(1, 0, 1), Error); }

TEST(Stats, MedianMinAndInterquartileSpread) {
  const TimingSummary t = summarize({5, 1, 4, 2, 3});
  EXPECT_EQ(t.reps, 5);
  EXPECT_DOUBLE_EQ(t.median_us, 3.0);
  EXPECT_DOUBLE_EQ(t.min_us, 1.0);
  EXPECT_DOUBLE_EQ(t.spread_pct, 100.0 * (4.0 - 2.0) / 3.0);
  EXPECT_DOUBLE_EQ(summarize({1, 2, 3, 4}).median_us, 2.5);
  EXPECT_THROW(summarize({}), Error);
  EXPECT_DOUBLE_EQ(gb_per_s(3e9, 1.5e6), 2.0);  // 3 GB in 1.5 s
}

TEST(Timer, SampleUsTakesTheMinimumThenStopsWhenTimeIsUp) {
  int calls = 0;
  const auto one = [&] { return static_cast<double>(++calls); };
  EXPECT_EQ(sample_us(5, 0.0, one).size(), 5u);
  EXPECT_EQ(sample_us(1, 1e9, one, 7).size(), 7u);  // capped
  CacheFlusher flusher(1);
  EXPECT_GE(time_call_us([] {}, &flusher), 0.0);
}

// The worker lookup of an installed program: bin/bnorm finds ../share/bnorm/torch_worker.py, a
// copy next to the program (the build tree) comes first, and with neither it names both places.
TEST(TorchWorkerPath, FoundRelativeToTheProgram) {
  namespace fs = std::filesystem;
  const fs::path root =
      fs::temp_directory_path() / ("bnorm-worker-path-" + std::to_string(getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "bin");
  fs::create_directories(root / "share" / "bnorm");
  const fs::path program = root / "bin" / "bnorm";
  const WorkerLookup none = find_torch_worker(program);
  EXPECT_EQ(none.path, "");
  EXPECT_NE(none.missing.find((root / "share/bnorm/torch_worker.py").string()), std::string::npos)
      << none.missing;
  EXPECT_NE(none.missing.find("--torch-worker"), std::string::npos) << none.missing;

  std::ofstream(root / "share" / "bnorm" / "torch_worker.py") << "# worker\n";
  EXPECT_EQ(find_torch_worker(program).path, (root / "share/bnorm/torch_worker.py").string());
  std::ofstream(root / "bin" / "torch_worker.py") << "# worker\n";
  EXPECT_EQ(find_torch_worker(program).path, (root / "bin/torch_worker.py").string());
  EXPECT_NE(find_torch_worker("").missing, "");
  fs::remove_all(root);
}

TEST(Verify, NamesTheFirstBadElement) {
  Outputs want{.y = {1.0f, 2.0f, 3.0f, 4.0f}};
  Outputs got = want;
  EXPECT_EQ(compare_outputs(got, want), "");
  got.y[2] = 3.1f;
  const std::string bad = compare_outputs(got, want);
  EXPECT_NE(bad.find("y[2]"), std::string::npos) << bad;
  got.y[2] = NAN;
  EXPECT_NE(compare_outputs(got, want), "");
  got.y.pop_back();
  EXPECT_NE(compare_outputs(got, want).find("expected 4 elements"), std::string::npos);
}

TEST(Verify, ReductionsAreJudgedByTheirLargestValue) {
  // dgamma sums M values: an absolute error small against the largest entry is rounding.
  const Outputs want{.dx = {0.0f}, .dgamma = {1000.0f, 0.001f}, .dbeta = {0.0f}};
  Outputs got = want;
  got.dgamma[1] = 0.5f;  // 0.5 off, against a tolerance of 2e-3 * 1001
  EXPECT_EQ(compare_outputs(got, want), "");
  got.dgamma[1] = 5.0f;
  EXPECT_NE(compare_outputs(got, want).find("dgamma[1]"), std::string::npos);
}

TEST(Shapes, NamesAndPlainDims) {
  EXPECT_EQ(parse_shape("fc_256x1024").dims, (std::vector<int64_t>{256, 1024}));
  EXPECT_EQ(parse_shape("8x32x14x14").name, "conv_8x32x14x14");
  EXPECT_EQ(parse_shape("60x100").layouts().size(), 1u);
  EXPECT_EQ(parse_shape("conv_2x3x4x5").layouts().size(), 2u);
  for (const char* bad : {"", "fc_", "60", "60x", "0x5", "2x3x4", "ax3", "60x100x", "1x5"}) {
    EXPECT_THROW(parse_shape(bad), Error) << bad;
  }
  EXPECT_EQ(default_shapes().size(), 5u);
  EXPECT_DOUBLE_EQ(compulsory_bytes(Op::kForwardTrain, 10), 80.0);
  EXPECT_DOUBLE_EQ(compulsory_bytes(Op::kBackward, 10), 120.0);
}

TEST(Problem, ReferenceTrainingForwardIsNormalized) {
  // Per channel, y has mean beta and standard deviation gamma (biased, eps aside).
  const Problem p = make_problem(parse_shape("7x3x5x5"), Layout::kChannelsLast, Op::kForwardTrain);
  for (int64_t c = 0; c < 3; ++c) {
    double sum = 0, sq = 0;
    int64_t m = 0;
    for (size_t i = static_cast<size_t>(c); i < p.reference.y.size(); i += 3, ++m) {
      sum += p.reference.y[i];
      sq += p.reference.y[i] * p.reference.y[i];
    }
    const double mean = sum / m, sd = std::sqrt(sq / m - mean * mean);
    EXPECT_NEAR(mean, p.beta[c], 1e-4);
    EXPECT_NEAR(sd, p.gamma[c], 1e-3);
  }
}

// Every in-process contender, on every layout and op at odd sizes: its untimed call matches the
// reference. A contender that does not apply (oneDNN best for nhwc) says so. bnorm with an ISA
// forced is there for each ISA this CPU has.
TEST(Contenders, InProcessOnesMatchTheReference) {
  std::vector<std::unique_ptr<Contender>> all;
  all.push_back(make_bnorm_contender(1));
  for (kernels::CpuIsa isa :
       {kernels::CpuIsa::kAvx512, kernels::CpuIsa::kAvx2, kernels::CpuIsa::kScalar}) {
    all.push_back(make_bnorm_contender(1, isa));
  }
  all.push_back(make_onednn_contender(false, 1));
  all.push_back(make_onednn_contender(true, 1));
  for (const char* shape : {"33x17", "3x5x7x9", "2x33x4x4"}) {
    const Shape s = parse_shape(shape);
    for (Layout layout : s.layouts()) {
      for (Op op : {Op::kForwardTrain, Op::kForwardInfer, Op::kBackward}) {
        const Problem p = make_problem(s, layout, op);
        for (auto& c : all) {
          if (!c->missing_reason().empty()) {
            GTEST_LOG_(INFO) << c->name() << " missing: " << c->missing_reason();
            continue;
          }
          c->set_threads(1);
          if (!c->prepare(p)) {
            EXPECT_TRUE(c->name() == "onednn-best" && layout == Layout::kChannelsLast);
            continue;
          }
          EXPECT_EQ(compare_outputs(c->check(), p.reference, 1e-4), "")
              << c->name() << " " << shape << " " << layout_name(layout) << " " << to_string(op);
          EXPECT_GT(c->run_us(false), 0.0);
          EXPECT_GT(c->run_us(true), 0.0);
          c->release();
        }
      }
    }
  }
}

// bnorm-<isa> runs its ISA's build, row-major problems from memory included (which the default
// dispatch of an AVX-512 machine gives to AVX2), and only while it calls: the calling thread
// dispatches as before between its calls. It is not an anchor; an ISA the CPU lacks is missing.
TEST(Contenders, ForcedIsaBnormRunsThatBuildOnly) {
  const Problem p = make_problem(parse_shape("32x64x56x56"), Layout::kChannelsLast,
                                 Op::kForwardInfer);  // 25.7 MB of float
  const std::string default_kernel = selected_kernel_name<float>(p.desc(), Backend::kAuto);
  for (kernels::CpuIsa isa :
       {kernels::CpuIsa::kAvx512, kernels::CpuIsa::kAvx2, kernels::CpuIsa::kScalar}) {
    const auto c = make_bnorm_contender(1, isa);
    const std::string name(kernels::to_string(isa));
    EXPECT_EQ(c->name(), "bnorm-" + name);
    if (!kernels::cpu_supports(isa)) {
      EXPECT_EQ(c->missing_reason(), "this CPU has no " + name);
      continue;
    }
    EXPECT_EQ(c->missing_reason(), "");
    EXPECT_FALSE(c->anchor());
    ASSERT_TRUE(c->prepare(p));
    EXPECT_EQ(c->kernel_name(), kernels::cpu_kernels<float>(isa).name);
    EXPECT_EQ(compare_outputs(c->check(), p.reference, 1e-4), "") << name;
    EXPECT_GT(c->run_us(false), 0.0);
    EXPECT_EQ(selected_kernel_name<float>(p.desc(), Backend::kAuto), default_kernel) << name;
    c->release();
  }
  EXPECT_TRUE(make_bnorm_contender(1)->anchor());
}

// The order of the timed calls: without forced ISAs the plain rotation; with them, bnorm and its
// bnorm-<isa> contenders back to back, each first among them once every three reps (so a slow
// call after a process switch falls on each alike), and each slot starting a rep in turn.
TEST(RepOrder, RotatesAndKeepsBnormsGroupTogether) {
  for (int rep = 0; rep < 7; ++rep) {
    std::vector<size_t> plain;
    for (size_t k = 0; k < 5; ++k) plain.push_back((k + static_cast<size_t>(rep)) % 5);
    EXPECT_EQ(rep_order(5, 1, rep), plain) << rep;
  }
  // 7 contenders: bnorm, bnorm-avx2, bnorm-avx512, then 4 others; 5 slots.
  EXPECT_EQ(rep_order(7, 3, 0), (std::vector<size_t>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(rep_order(7, 3, 1), (std::vector<size_t>{3, 4, 5, 6, 1, 2, 0}));
  EXPECT_EQ(rep_order(7, 3, 2), (std::vector<size_t>{4, 5, 6, 2, 0, 1, 3}));
  std::vector<std::vector<int>> place(3, std::vector<int>(3, 0));  // [member][place in group]
  std::vector<int> starts(7, 0);
  for (int rep = 0; rep < 15; ++rep) {
    const std::vector<size_t> order = rep_order(7, 3, rep);
    ASSERT_EQ(std::set<size_t>(order.begin(), order.end()).size(), 7u) << rep;
    const size_t first = static_cast<size_t>(
        std::find_if(order.begin(), order.end(), [](size_t k) { return k < 3; }) - order.begin());
    ASSERT_LE(first + 3, order.size()) << rep;
    for (size_t i = 0; i < 3; ++i) {
      ASSERT_LT(order[first + i], 3u) << rep;  // the group is contiguous
      ++place[order[first + i]][i];
    }
    ++starts[order[0]];
  }
  for (const auto& member : place) EXPECT_EQ(member, (std::vector<int>{5, 5, 5}));
  EXPECT_EQ(starts, (std::vector<int>{1, 1, 1, 3, 3, 3, 3}));  // the group's slot: 3 of 15
}

TEST(Contenders, MissingOneSaysWhy) {
  const auto c = make_missing_contender("torch", "left out");
  EXPECT_EQ(c->name(), "torch");
  EXPECT_EQ(c->missing_reason(), "left out");
}

}  // namespace
}  // namespace bnorm::bench
