// The benchmark programs beside `bnorm bench`, as a user runs them: the kernel micro-benchmark
// prints one line per op of the chosen case and rejects bad options with exit 2, and the MLP step
// benchmark prints its one JSON line.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace {

struct ProgramRun {
  int exit_code = -1;
  std::string out;
};

ProgramRun run(const std::string& cmd) {
  ProgramRun r;
  FILE* pipe = popen((cmd + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[512];
  while (std::fgets(buf, sizeof(buf), pipe) != nullptr) r.out += buf;
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(KernelsBench, OneLinePerOpOfTheFilteredCase) {
  const ProgramRun r = run(std::string(BNORM_KERNELS_BENCH) +
                           " --filter fc_60x100 --threads 1 --seconds 0 --min-reps 2");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(count(r.out, "fc_60x100/nc"), 3u) << r.out;
  for (const char* op : {"fwd_train", "fwd_infer", "backward"}) {
    EXPECT_NE(r.out.find(op), std::string::npos) << r.out;
  }
  EXPECT_EQ(count(r.out, "GB/s"), 3u) << r.out;
}

TEST(KernelsBench, BadOptionsExitTwo) {
  for (const char* args : {"--threads 0", "--backend fast", "--nope"}) {
    EXPECT_EQ(run(std::string(BNORM_KERNELS_BENCH) + " " + args).exit_code, 2) << args;
  }
}

TEST(StepBench, PrintsOneJsonLineWithItsSteps) {
  const ProgramRun r = run(std::string(BNORM_MLP_BENCH) + " --bn 1 --steps 6 --warmup 1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("impl"), "bnorm");
  EXPECT_EQ(j.at("bn"), true);
  EXPECT_EQ(j.at("steps"), 6);
  EXPECT_GT(j.at("steps_per_s").get<double>(), 0.0);
}

}  // namespace
