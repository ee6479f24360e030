// Fuzz target: the command line's fig1, paper and bench options. The input is split at newlines
// into arguments and parsed by the real option definitions with the commands' runs switched off. It
// must parse or throw a CLI11 error (usage) or bnorm::Error; an abort or other exception is a bug.
#include <CLI/CLI.hpp>
#include <bnorm/error.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "commands.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args;
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
  std::vector<char*> argv{const_cast<char*>("bnorm")};
  for (std::string& a : args) argv.push_back(a.data());
  CLI::App app{"bnorm"};
  app.require_subcommand(1);
  bnorm::cli::add_fig1_command(app, /*run_it=*/false);
  bnorm::cli::add_paper_command(app, /*run_it=*/false);
  bnorm::cli::add_bench_command(app, /*run_it=*/false);
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::Error&) {
  } catch (const bnorm::Error&) {
  }
  return 0;
}
