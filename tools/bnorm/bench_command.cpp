// `bnorm bench`: options, then the interleaved run, the table on stdout and optional JSON.
// Progress goes to stderr so the table can be piped. Everything a run needs (option ranges, memory,
// the kernel choice, a writable --json) is checked before it starts.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bnorm/error.hpp"
#include "commands.hpp"
#include "kernels/kernels.hpp"
#include "options.hpp"
#include "report.hpp"
#include "runner.hpp"

namespace bnorm::cli {
namespace {

// Option bounds that keep every size computation far from overflow; whether a run fits in this
// machine's memory is checked separately (bench::validate_options).
constexpr int64_t kMaxReps = 1'000'000;
constexpr int64_t kMaxMib = int64_t{1} << 20;  // 1 TiB

struct BenchArgs {
  std::vector<int> threads = {1, 2};
  int reps = 0;  // 0: 10, or 3 with --quick
  bool quick = false;
  std::vector<std::string> shapes;
  std::vector<std::string> ops;
  std::vector<std::string> dtypes;
  std::vector<std::string> cache = {"hot", "cold"};
  std::vector<std::string> bnorm_isas;
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
  if (!a.dtypes.empty()) {
    o.dtypes.clear();
    for (const std::string& s : a.dtypes) o.dtypes.push_back(bench::dtype_from_string(s));
  }
  o.cold.clear();
  for (const std::string& c : a.cache) {
    if (c != "hot" && c != "cold") {
      throw Error("[bench] expected --cache values hot or cold, got '" + c + "'");
    }
    o.cold.push_back(c == "cold");
  }
  for (const std::string& name : a.bnorm_isas) {
    const std::optional<kernels::CpuIsa> isa = kernels::cpu_isa_from_string(name);
    if (!isa) {
      throw Error("[bench] expected --bnorm-isas values avx512, avx2 or scalar, got '" + name +
                  "'");
    }
    o.bnorm_isas.push_back(*isa);
  }
  return o;
}

// The JSON is written at the end of a run that may take minutes: a path it cannot be written to is
// found now, by creating and removing a temporary file in its folder as the atomic write will.
void check_json_target(const std::string& path) {
  const std::filesystem::path target(path);
  std::error_code ec;
  if (std::filesystem::is_directory(target, ec)) {
    throw Error("[bench] expected --json to name a file, got the directory '" + path + "'");
  }
  const std::filesystem::path folder = target.has_parent_path() ? target.parent_path() : ".";
  std::string probe = (folder / ("." + target.filename().string() + ".check.XXXXXX")).string();
  const int fd = ::mkstemp(probe.data());
  if (fd < 0) {
    throw Error("[bench] expected --json to name a file in a writable folder, got '" + path +
                "': " + std::strerror(errno));
  }
  ::close(fd);
  ::unlink(probe.c_str());
}

// run_it false: the options are parsed and checked (without touching --json), nothing runs.
void run(const BenchArgs& args, bool run_it) {
  const bench::BenchOptions options = to_options(args);
  bench::validate_options(options);
  if (!run_it) return;
  if (!args.json.empty()) check_json_target(args.json);
  const bench::BenchReport report = bench::run_bench(options, &std::cerr);
  bench::print_table(report, std::cout);
  if (!args.json.empty()) {
    bench::write_json(report, args.json);
    std::cerr << "wrote " << args.json << "\n";
  }
}

// A comma-separated option whose items the run checks (shapes, ops, cache states); an empty item
// is a usage error rather than silently dropped.
CLI::Option* add_list_option(CLI::App* cmd, const std::string& name,
                             std::vector<std::string>& target, const std::string& what,
                             const std::string& help) {
  return cmd->add_option_function<std::string>(
      name,
      [&target, name, what](const std::string& text) { target = split_list(name, text, what); },
      help);
}

}  // namespace

CommandState add_bench_command(CLI::App& app, bool run_it) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "bench",
      "Time BatchNorm (training forward, inference forward, backward) in bnorm, PyTorch and "
      "oneDNN, interleaved, hot and cold cache, against STREAM bandwidth");
  cmd->add_option_function<std::string>(
         "--threads",
         [args](const std::string& text) {
           args->threads.clear();
           for (int64_t t : parse_int_list("--threads", text, 1, max_threads())) {
             args->threads.push_back(static_cast<int>(t));
           }
         },
         "Thread counts, comma-separated [1.." + std::to_string(max_threads()) + "]")
      ->default_str("1,2");
  add_int_option(cmd, "--reps", args->reps, 1, kMaxReps,
                 "Timed calls per contender and case (default 10; 3 with --quick)")
      ->default_str("");
  cmd->add_flag("--quick", args->quick, "Smoke run: two small shapes, 3 reps, small STREAM arrays");
  add_list_option(cmd, "--shapes", args->shapes, "shapes",
                  "Shapes, comma-separated: fc_256x1024, fc_60x100, conv_32x64x56x56, "
                  "conv_64x256x14x14, conv_64x128x56x56, or any NxC / NxCxHxW");
  add_list_option(cmd, "--ops", args->ops, "ops",
                  "Ops, comma-separated: fwd_train, fwd_infer, backward");
  add_list_option(cmd, "--dtype", args->dtypes, "dtypes",
                  "Element types, comma-separated: f32, bf16 (bfloat16 data, float32 parameters; "
                  "each bf16 row follows its f32 row)")
      ->default_str("f32");
  add_list_option(cmd, "--cache", args->cache, "cache states",
                  "Cache states, comma-separated: hot, cold")
      ->default_str("hot,cold");
  add_list_option(
      cmd, "--bnorm-isas", args->bnorm_isas, "ISAs",
      "Also time bnorm with each of these ISAs forced (avx512, avx2, scalar; "
      "comma-separated), interleaved with the default dispatch: contenders bnorm-<isa>, "
      "missing where the CPU lacks the ISA, never anchors");
  cmd->add_option("--json", args->json, "Also write the results as JSON to this file");
  add_int_option(cmd, "--cold-mib", args->cold_mib, 1, kMaxMib,
                 "MiB read before each cold-cache call");
  add_int_option(cmd, "--stream-mib", args->stream_mib, 1, kMaxMib,
                 "MiB per STREAM array (default 256; 32 with --quick)")
      ->default_str("");
  cmd->add_flag("--no-torch", args->no_torch, "Leave PyTorch out (reported as missing)");
  cmd->add_flag("--no-onednn", args->no_onednn, "Leave oneDNN out (reported as missing)");
  cmd->add_option("--python", args->python, "Interpreter for the PyTorch worker")
      ->capture_default_str();
  cmd->add_option("--torch-worker", args->torch_worker,
                  "The PyTorch worker script (default: torch_worker.py next to bnorm, or in "
                  "../share/bnorm from its folder when installed)");
  // The callback owns args (the options write into it), so it is set even when nothing runs.
  cmd->callback([args, run_it] { run(*args, run_it); });
  return {[args] { *args = BenchArgs{}; },
          [args] {
            const BenchArgs& a = *args;
            return describe_values(a.threads, a.reps, a.quick, a.shapes, a.ops, a.dtypes, a.cache,
                                   a.bnorm_isas, a.json, a.cold_mib, a.stream_mib, a.no_torch,
                                   a.no_onednn, a.python, a.torch_worker);
          }};
}

}  // namespace bnorm::cli
