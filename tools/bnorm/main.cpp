// bnorm: the command line. Parses, runs the chosen subcommand, and maps failures to exit codes:
// 0 success, 1 a run that failed (bnorm::Error), 2 a usage error (CLI11 parse error).
#include <iostream>
#include <optional>
#include <string>

#include "bnorm/error.hpp"
#include "commands.hpp"
#include "distributed.hpp"

namespace {

// CLI11 messages can span lines; the contract is one line on stderr.
std::string one_line(std::string text) {
  for (char& ch : text) {
    if (ch == '\n') ch = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bnorm: Batch Normalization, exact and fast, and the paper's experiments"};
  app.require_subcommand(1);
  bnorm::cli::add_fig1_command(app);
  bnorm::cli::add_bench_command(app);
  bnorm::cli::add_paper_command(app);

  std::optional<bnorm::cli::DistributedSession> session;  // MPI only under mpirun -np K > 1
  try {
    session.emplace(argc, argv);
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11 uses 105/106 and friends; usage errors are 2 here, as for any Unix tool.
    std::cerr << "bnorm: " << one_line(e.what()) << " (see bnorm --help)\n";
    return 2;
  } catch (const bnorm::Error& e) {
    const auto chosen = app.get_subcommands();
    const std::string command = chosen.empty() ? "" : " " + chosen.front()->get_name();
    std::cerr << "bnorm" << command << ": " << one_line(e.what()) << "\n";
    if (session) session->abort_job(1);  // the other ranks may be waiting in a collective
    return 1;
  }
  return 0;
}
