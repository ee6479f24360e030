// The bnorm program as a user meets it: exit codes (0 ok, 1 failed run, 2 usage), one-line
// messages, a --quick smoke run of `bnorm bench` whose JSON must have a full row per case, and an
// installed (then moved) program that still finds its PyTorch worker.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

CliResult run_cli(const std::string& args, const std::string& program = BNORM_CLI) {
  const std::string base = std::string(BNORM_TEST_TMP) + "/cli_" +
                           ::testing::UnitTest::GetInstance()->current_test_info()->name();
  const std::string cmd = program + " " + args + " >" + base + ".out 2>" + base + ".err";
  const int status = std::system(cmd.c_str());
  return {.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1,
          .out = slurp(base + ".out"),
          .err = slurp(base + ".err")};
}

size_t lines(const std::string& s) {
  size_t n = 0;
  for (char ch : s) n += ch == '\n';
  return n;
}

TEST(Cli, HelpExitsZeroAndListsBench) {
  const CliResult r = run_cli("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("bench"), std::string::npos) << r.out;
  const CliResult b = run_cli("bench --help");
  EXPECT_EQ(b.exit_code, 0);
  EXPECT_NE(b.out.find("--threads"), std::string::npos) << b.out;
}

TEST(Cli, UsageErrorsExitTwoWithOneLine) {
  for (const char* args : {"", "frobnicate", "bench --nope", "bench --reps", "bench --reps abc",
                           "bench --threads x", "bench --threads 0", "bench --reps -3"}) {
    const CliResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << "'" << args << "': " << r.err;
    EXPECT_EQ(lines(r.err), 1u) << "'" << args << "': " << r.err;
    EXPECT_EQ(r.err.rfind("bnorm: ", 0), 0u) << r.err;
  }
}

TEST(Cli, BadValuesExitOneNamingTheCommandAndTheValue) {
  const struct {
    const char* args;
    const char* says;
  } cases[] = {
      {"bench --shapes 3x0", "'3x0'"},
      {"bench --ops sideways", "'sideways'"},
      {"bench --cache lukewarm", "'lukewarm'"},
      {"bench --bnorm-isas avx2,avx3", "got 'avx3'"},
      {"bench --bnorm-isas AVX2", "avx512, avx2 or scalar, got 'AVX2'"},
      {"bench --bnorm-isas avx2,scalar,avx2", "avx2 twice"},
  };
  for (const auto& c : cases) {
    const CliResult r = run_cli(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args << ": " << r.err;
    EXPECT_EQ(lines(r.err), 1u) << c.args << ": " << r.err;
    EXPECT_EQ(r.err.rfind("bnorm bench: [bench] expected", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
  }
}

TEST(Cli, UnwritableJsonIsAFailedRun) {
  const CliResult r = run_cli(
      "bench --quick --shapes 4x3 --ops fwd_infer --threads 1 --cache hot --reps 1 --no-torch "
      "--stream-mib 1 --cold-mib 1 --json /nonexistent-dir/x.json");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("/nonexistent-dir/x.json"), std::string::npos) << r.err;
}

// The smoke run: every contender, two tiny shapes (3 shape-layouts), 3 ops, 2 thread counts, hot
// and cold: 36 rows, each with every key; no contender may fail its check against the reference.
TEST(BenchSmoke, JsonHasEveryKeyAndARowPerCase) {
  const std::string json_path = std::string(BNORM_TEST_TMP) + "/smoke.json";
  std::remove(json_path.c_str());
  const CliResult r = run_cli(
      "bench --quick --shapes 6x5,4x3x5x5 --reps 2 --threads 1,2 "
      "--cold-mib 4 --stream-mib 4 --json " +
      json_path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("STREAM"), std::string::npos);
  EXPECT_NE(r.out.find("conv_4x3x5x5"), std::string::npos) << r.out;

  const nlohmann::json j = nlohmann::json::parse(slurp(json_path));
  ASSERT_EQ(j.at("stream").size(), 2u);
  for (const auto& s : j["stream"]) {
    EXPECT_GT(s.at("scale_gbs").get<double>(), 0.0);
    EXPECT_GT(s.at("scale_nt_gbs").get<double>(), 0.0);
  }

  std::set<std::string> available;
  for (const auto& c : j.at("contenders")) {
    if (c.at("available").get<bool>()) {
      available.insert(c.at("name").get<std::string>());
    } else {
      EXPECT_FALSE(c.at("missing").get<std::string>().empty()) << c.dump();  // says why
    }
  }
  ASSERT_EQ(j.at("contenders").size(), 5u);
  EXPECT_TRUE(available.count("bnorm"));

  const auto& rows = j.at("rows");
  ASSERT_EQ(rows.size(), 36u);
  std::set<std::string> cases;
  for (const auto& row : rows) {
    for (const char* key : {"shape", "layout", "op", "threads", "cache", "bnorm_us", "torch_us",
                            "onednn_us", "best_anchor_us", "pct_of_stream"}) {
      EXPECT_TRUE(row.contains(key)) << key << " missing in " << row.dump();
    }
    cases.insert(row["shape"].get<std::string>() + row["layout"].get<std::string>() +
                 row["op"].get<std::string>() + std::to_string(row["threads"].get<int>()) +
                 row["cache"].get<std::string>());
    EXPECT_GT(row["bnorm_us"].get<double>(), 0.0) << row.dump();
    EXPECT_GT(row["pct_of_stream"].get<double>(), 0.0) << row.dump();
    if (available.count("torch")) {
      EXPECT_TRUE(row["torch_us"].is_number()) << row.dump();
    }
    if (available.count("onednn")) {
      EXPECT_TRUE(row["onednn_us"].is_number()) << row.dump();
    }
    for (const auto& [name, c] : row.at("contenders").items()) {
      const auto status = c.at("status").get<std::string>();
      EXPECT_TRUE(status == "ok" || status == "n/a" || status == "missing")
          << name << " in " << row.dump();
      EXPECT_EQ(status == "missing", !available.count(name)) << name;
    }
  }
  EXPECT_EQ(cases.size(), 36u);  // one row per case, none twice
}

// --bnorm-isas: a bnorm-<isa> contender per ISA in the same run, each running its ISA's build on
// every case (f32 and bf16, row-major from memory or not), never an anchor; an ISA this CPU lacks
// is listed as missing with the reason, not dropped. The table names each one's kernels.
TEST(BenchSmoke, ForcedIsasAreContendersOfTheSameRun) {
  const std::string json_path = std::string(BNORM_TEST_TMP) + "/forced_isas.json";
  std::remove(json_path.c_str());
  const CliResult r = run_cli(
      "bench --shapes 6x5,4x3x5x5 --ops fwd_train,backward --dtype f32,bf16 --threads 1 "
      "--cache hot --reps 2 --no-torch --no-onednn --cold-mib 1 --stream-mib 1 "
      "--bnorm-isas avx512,avx2,scalar --json " +
      json_path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(slurp(json_path));
  std::set<std::string> available;
  std::vector<std::string> names;
  for (const auto& c : j.at("contenders")) {
    const std::string name = c.at("name").get<std::string>();
    names.push_back(name);
    if (c.at("available").get<bool>()) {
      available.insert(name);
    } else if (name.starts_with("bnorm-")) {
      EXPECT_EQ(c.at("missing").get<std::string>(), "this CPU has no " + name.substr(6));
    }
  }
  ASSERT_GE(names.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(names.begin(), names.begin() + 4),
            (std::vector<std::string>{"bnorm", "bnorm-avx512", "bnorm-avx2", "bnorm-scalar"}));
  EXPECT_TRUE(available.count("bnorm-scalar"));  // every x86-64 has it
  const auto& rows = j.at("rows");
  ASSERT_EQ(rows.size(), 12u);  // 3 shape-layouts x 2 ops x 2 dtypes
  for (const auto& row : rows) {
    EXPECT_TRUE(row.at("best_anchor_us").is_null()) << row.dump();  // bnorm-<isa> is no anchor
    for (const char* isa : {"avx512", "avx2", "scalar"}) {
      const auto& c = row.at("contenders").at(std::string("bnorm-") + isa);
      if (!available.count(std::string("bnorm-") + isa)) {
        EXPECT_EQ(c.at("status"), "missing") << row.dump();
        continue;
      }
      EXPECT_EQ(c.at("status"), "ok") << isa << " in " << row.dump();
      EXPECT_FALSE(c.at("anchor").get<bool>());
      EXPECT_GT(c.at("median_us").get<double>(), 0.0);
      // Its ISA's build on every case; bfloat16 at avx512 may take the AVX512_BF16 build.
      EXPECT_EQ(c.at("kernel").get<std::string>().rfind(std::string("cpu-") + isa, 0), 0u)
          << isa << " in " << row.dump();
    }
  }
  EXPECT_NE(r.out.find("bnorm-scalar: cpu-scalar"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("scalar: cpu-scalar]"), std::string::npos) << r.out;
}

// The results page (bench/scripts/results.py) from a bench JSON: the machine, the build, the
// command given, and one table row per case.
TEST(BenchSmoke, ResultsPageHasTheMachineAndARowPerCase) {
  const std::string tmp = std::string(BNORM_TEST_TMP) + "/results";
  const CliResult r = run_cli(
      "bench --quick --shapes 6x5,4x3x5x5 --ops fwd_infer,backward --threads 1 --reps 1 "
      "--no-torch --no-onednn --cold-mib 1 --stream-mib 1 --json " +
      tmp + ".json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string cmd = std::string(BNORM_BENCH_PYTHON) + " " + BNORM_RESULTS_SCRIPT + " " + tmp +
                          ".json --command 'bnorm bench --quick' --out " + tmp + ".md";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const std::string page = slurp(tmp + ".md");
  for (const char* says : {"Machine: ", "Build: ", "`bnorm bench --quick`", "| 1 | ", "MISSING"}) {
    EXPECT_NE(page.find(says), std::string::npos) << says << " not in\n" << page;
  }
  size_t rows = 0;
  for (size_t at = page.find("\n| fc_6x5 |"); at != std::string::npos;
       at = page.find("\n| fc_6x5 |", at + 1)) {
    ++rows;
  }
  for (size_t at = page.find("\n| conv_4x3x5x5 |"); at != std::string::npos;
       at = page.find("\n| conv_4x3x5x5 |", at + 1)) {
    ++rows;
  }
  EXPECT_EQ(rows, 12u) << page;  // (1 + 2 layouts) x 2 ops x hot, cold
  // Not a bench JSON: one line naming the file, exit 1.
  const std::string bad = std::string(BNORM_BENCH_PYTHON) + " " + BNORM_RESULTS_SCRIPT + " " + tmp +
                          ".md --out " + tmp + "-bad.md 2>/dev/null";
  EXPECT_EQ(WEXITSTATUS(std::system(bad.c_str())), 1);
}

// What the torch contender says in a cheap run of `program bench` (torch's own row only).
std::string torch_status(const std::string& program, const std::string& extra) {
  const std::string json_path = std::string(BNORM_TEST_TMP) + "/torch_status.json";
  const CliResult r = run_cli(
      "bench --quick --shapes 4x3 --ops fwd_infer --threads 1 --cache hot --reps 1 --no-onednn "
      "--stream-mib 1 --cold-mib 1 --json " +
          json_path + " " + extra,
      program);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json report = nlohmann::json::parse(slurp(json_path));
  for (const auto& c : report.at("contenders")) {
    if (c.at("name").get<std::string>() == "torch") {
      return c.at("available").get<bool>() ? "available" : c.at("missing").get<std::string>();
    }
  }
  return "not listed";
}

// `cmake --install` puts bnorm in bin/ and its worker in share/bnorm/; the program finds the
// worker there, also after the whole prefix moved. Without torch installed the worker still
// answers (missing: cannot import torch), which only a found worker can say.
TEST(InstalledCli, FindsItsTorchWorkerAfterInstallAndMove) {
  const std::string prefix = std::string(BNORM_TEST_TMP) + "/installed";
  const std::string moved = prefix + "-moved";
  ASSERT_EQ(std::system(("rm -rf " + prefix + " " + moved).c_str()), 0);
  const std::string install = std::string(BNORM_CMAKE) + " --install " + BNORM_BUILD_DIR +
                              " --component bnorm_cli --prefix " + prefix + " >/dev/null";
  ASSERT_EQ(std::system(install.c_str()), 0) << install;
  // The worker ran: it answered with torch's version, or that it cannot import torch.
  const std::string installed = torch_status(prefix + "/bin/bnorm", "");
  EXPECT_TRUE(installed == "available" || installed.starts_with("cannot import")) << installed;
  ASSERT_EQ(std::system(("mv " + prefix + " " + moved).c_str()), 0);
  EXPECT_EQ(torch_status(moved + "/bin/bnorm", ""), installed);
  // --torch-worker still wins over the lookup.
  const std::string overridden = torch_status(moved + "/bin/bnorm", "--torch-worker /nonexistent");
  EXPECT_NE(overridden.find("/nonexistent"), std::string::npos) << overridden;
  // And a program whose worker is gone says where it looked.
  ASSERT_EQ(std::system(("rm -rf " + moved + "/share").c_str()), 0);
  const std::string gone = torch_status(moved + "/bin/bnorm", "");
  EXPECT_NE(gone.find(moved + "/share/bnorm/torch_worker.py"), std::string::npos) << gone;
}

}  // namespace
