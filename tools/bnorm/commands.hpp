// The subcommands of the bnorm command line. Each lives in its own <name>_command.cpp and
// registers itself on the app; adding a command is one new file plus one line in main.cpp.
// A command's callback throws bnorm::Error for bad input or a failed run; main prints it as
// "bnorm <command>: <message>" and exits 1. Each returns the values its options write (main
// ignores them; the option fuzzer resets them to parse many command lines with one app).
#pragma once

#include <CLI/CLI.hpp>

#include "command_state.hpp"

namespace bnorm::cli {

// `bnorm bench`: BatchNorm against PyTorch and oneDNN, with STREAM bandwidth for scale.
// run_it false: parse and check the options only (for the option parser's fuzz target).
CommandState add_bench_command(CLI::App& app, bool run_it = true);

// `bnorm fig1`: Figure 1 of the paper (experiment E1), metrics and an HTML report.
// run_it false: parse and check the options only (for the option parser's fuzz target).
CommandState add_fig1_command(CLI::App& app, bool run_it = true);
// `bnorm paper <id>`: the paper's claims E2-E11 measured, CSVs, an HTML report and summary.json.
CommandState add_paper_command(CLI::App& app, bool run_it = true);

}  // namespace bnorm::cli
