// Fuzz target: the command line's fig1, paper and bench options. The input is split at newlines
// into arguments and parsed by the real option definitions with the commands' runs switched off. It
// must parse or throw a CLI11 error (usage) or bnorm::Error; an abort or other exception is a bug.
// One app serves every input (building one per input took ~9x the CPU time per input): before
// each parse its results and the values the options write are reset, and a sample of inputs is
// parsed again by a fresh app; any difference aborts, as does one among fixed pairs at start-up.
#include <CLI/CLI.hpp>
#include <bnorm/error.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"

namespace {

using Args = std::vector<std::string>;

// The app of bnorm's main with the three commands, their runs off.
class Parser {
 public:
  Parser() {
    app_.require_subcommand(1);
    states_.push_back(bnorm::cli::add_fig1_command(app_, /*run_it=*/false));
    states_.push_back(bnorm::cli::add_paper_command(app_, /*run_it=*/false));
    states_.push_back(bnorm::cli::add_bench_command(app_, /*run_it=*/false));
  }

  // Parses args as a fresh app would. With describe: the outcome (error class and message, the
  // chosen command) and every value the options wrote; else "".
  std::string parse(const Args& args, bool describe) {
    app_.clear();
    for (const bnorm::cli::CommandState& s : states_) s.reset();
    std::vector<const char*> argv{"bnorm"};
    for (const std::string& a : args) argv.push_back(a.c_str());
    std::string outcome = "ok";
    try {
      app_.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::Error& e) {
      if (describe) outcome = "usage " + e.get_name() + ": " + e.what();
    } catch (const bnorm::Error& e) {
      if (describe) outcome = std::string("error: ") + e.what();
    }
    if (!describe) return "";
    for (const CLI::App* cmd : app_.get_subcommands()) outcome += "\ncommand " + cmd->get_name();
    for (const bnorm::cli::CommandState& s : states_) outcome += "\n" + s.describe();
    return outcome;
  }

 private:
  CLI::App app_{"bnorm"};
  std::vector<bnorm::cli::CommandState> states_;
};

// The app every input reuses. CLI11 2.1.2's App::clear() leaves parse_order() growing by every
// option parsed, so a new app replaces it now and then to keep the memory bounded.
std::unique_ptr<Parser>& cached_ptr() {
  static std::unique_ptr<Parser> parser = std::make_unique<Parser>();
  return parser;
}
Parser& cached() { return *cached_ptr(); }

std::string describe_args(const Args& args) {
  std::string text;
  for (const std::string& a : args) text += " '" + a + "'";
  return text;
}

// Parses `now` with the cached app (which parsed `before` last) and with a fresh one.
void check_same_as_fresh(const Args& before, const Args& now) {
  const std::string reused = cached().parse(now, true);
  const std::string fresh = Parser().parse(now, true);
  if (reused == fresh) return;
  std::fprintf(
      stderr, "cli_options: a reused app parsed%s\nafter%s\nas\n%s\nbut a fresh app as\n%s\n",
      describe_args(now).c_str(), describe_args(before).c_str(), reused.c_str(), fresh.c_str());
  std::abort();
}

// Command lines that set every option of each command to a value other than its default, the
// defaults alone, and errors after some values were written; each is parsed after each.
const std::vector<Args> kPairs = {
    {"fig1",       "--dataset",
     "fashion",    "--steps",
     "7",          "--batch",
     "3",          "--lr",
     "0.5,2",      "--momentum",
     "0.5",        "--init-sigma",
     "0.2",        "--seed",
     "9",          "--threads",
     "1",          "--jobs",
     "1",          "--eval-every",
     "2",          "--probe-unit",
     "3",          "--probe-size",
     "5",          "--grayscale",
     "--bn-sync",  "local",
     "--data-dir", "d",
     "--out",      "o",
     "--quiet"},
    {"fig1"},
    {"fig1", "--steps", "5", "--lr", "0.2", "--batch", "1"},
    {"paper", "E2",         "--quick", "--seeds", "2", "--threads", "1", "--jobs",
     "1",     "--lr",       "0.1,1",   "--steps", "5", "--batch",   "4", "--test-limit",
     "9",     "--data-dir", "d",       "--out",   "o", "--quiet"},
    {"paper", "all"},
    {"paper", "E2", "--seeds", "3", "--steps", "0"},
    {"bench",          "--threads", "1",          "--reps",      "2",          "--quick",
     "--shapes",       "4x3",       "--ops",      "backward",    "--dtype",    "bf16",
     "--cache",        "hot",       "--json",     "j.json",      "--cold-mib", "2",
     "--stream-mib",   "3",         "--no-torch", "--no-onednn", "--python",   "p",
     "--torch-worker", "w"},
    {"bench", "--quick"},
    {"bench", "--reps", "4", "--shapes", "1x3"},
    {},
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  for (const Args& before : kPairs) {
    for (const Args& now : kPairs) {
      cached().parse(before, false);
      check_same_as_fresh(before, now);
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Args args;
  std::string current;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == '\n') {
      args.push_back(current);
      current.clear();
    } else {
      current.push_back(static_cast<char>(data[i]));
    }
  }
  args.push_back(current);
  // One input in 64 is also parsed by a fresh app (about doubling the time of those).
  static Args previous;
  static uint64_t count = 0;
  if (count++ % 64 == 0) {
    check_same_as_fresh(previous, args);
  } else {
    cached().parse(args, false);
  }
  previous = std::move(args);
  if (count % 4096 == 0) cached_ptr() = std::make_unique<Parser>();
  return 0;
}
