// `bnorm bench`: options, then the interleaved run, the table on stdout and optional JSON.
// Progress goes to stderr so the table can be piped.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "bnorm/error.hpp"
#include "commands.hpp"
#include "report.hpp"
#include "runner.hpp"

namespace bnorm::cli {
namespace {

struct BenchArgs {
  std::vector<int> threads = {1, 2};
  int reps = 0;  // 0: 10, or 3 with --quick
  bool quick = false;
  std::vector<std::string> shapes;
  std::vector<std::string> ops;
  std::vector<std::string> cache = {"hot", "cold"};
  std::string json;
  int cold_mib = 128;
  int stream_mib = 0;  // 0: 256, or 32 with --quick
  bool no_torch = false;
  bool no_onednn = false;
  std::string python = BNORM_BENCH_PYTHON;
  std::string torch_worker;  // empty: the harness looks next to the program
};

bench::BenchOptions to_options(const BenchArgs& a) {
  bench::BenchOptions o{.threads = a.threads,
                        .reps = a.reps > 0 ? a.reps : (a.quick ? 3 : 10),
                        .cold_mib = a.cold_mib,
                        .stream_reps = a.quick ? 3 : 10,
                        .python = a.python,
                        .torch_worker = a.torch_worker,
                        .with_torch = !a.no_torch,
                        .with_onednn = !a.no_onednn};
  if (a.reps < 0) throw Error("[bench] expected --reps >= 1, got " + std::to_string(a.reps));
  const int stream_mib = a.stream_mib > 0 ? a.stream_mib : (a.quick ? 32 : 256);
  o.stream_bytes = static_cast<size_t>(stream_mib) << 20;
  if (!a.shapes.empty()) {
    o.shapes.clear();
    for (const std::string& s : a.shapes) o.shapes.push_back(bench::parse_shape(s));
  } else if (a.quick) {
    o.shapes = bench::quick_shapes();
  }
  if (!a.ops.empty()) {
    o.ops.clear();
    for (const std::string& s : a.ops) o.ops.push_back(bench::op_from_string(s));
  }
  o.cold.clear();
  for (const std::string& c : a.cache) {
    if (c != "hot" && c != "cold") {
      throw Error("[bench] expected --cache values hot or cold, got '" + c + "'");
    }
    o.cold.push_back(c == "cold");
  }
  return o;
}

void run(const BenchArgs& args) {
  const bench::BenchOptions options = to_options(args);
  const bench::BenchReport report = bench::run_bench(options, &std::cerr);
  bench::print_table(report, std::cout);
  if (!args.json.empty()) {
    bench::write_json(report, args.json);
    std::cerr << "wrote " << args.json << "\n";
  }
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "bench",
      "Time BatchNorm (training forward, inference forward, backward) in bnorm, PyTorch and "
      "oneDNN, interleaved, hot and cold cache, against STREAM bandwidth");
  cmd->add_option("--threads", args->threads, "Thread counts, comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--reps", args->reps,
                  "Timed calls per contender and case (default 10; 3 with --quick)");
  cmd->add_flag("--quick", args->quick, "Smoke run: two small shapes, 3 reps, small STREAM arrays");
  cmd->add_option("--shapes", args->shapes,
                  "Shapes, comma-separated: fc_256x1024, fc_60x100, conv_32x64x56x56, "
                  "conv_64x256x14x14, conv_64x128x56x56, or any NxC / NxCxHxW")
      ->delimiter(',');
  cmd->add_option("--ops", args->ops, "Ops, comma-separated: fwd_train, fwd_infer, backward")
      ->delimiter(',');
  cmd->add_option("--cache", args->cache, "Cache states, comma-separated: hot, cold")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--json", args->json, "Also write the results as JSON to this file");
  cmd->add_option("--cold-mib", args->cold_mib, "MiB read before each cold-cache call")
      ->capture_default_str();
  cmd->add_option("--stream-mib", args->stream_mib,
                  "MiB per STREAM array (default 256; 32 with --quick)");
  cmd->add_flag("--no-torch", args->no_torch, "Leave PyTorch out (reported as missing)");
  cmd->add_flag("--no-onednn", args->no_onednn, "Leave oneDNN out (reported as missing)");
  cmd->add_option("--python", args->python, "Interpreter for the PyTorch worker")
      ->capture_default_str();
  cmd->add_option("--torch-worker", args->torch_worker,
                  "The PyTorch worker script (default: torch_worker.py next to bnorm, or in "
                  "../share/bnorm from its folder when installed)");
  cmd->callback([args] { run(*args); });
}

}  // namespace bnorm::cli
