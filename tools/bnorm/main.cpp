// bnorm: the command line. Parses, runs the chosen subcommand, and maps failures to exit codes:
// 0 success, 1 a run that failed (bnorm::Error, any other exception, out of memory, a write error
// on stdout), 2 a usage error (CLI11 parse error or an option value out of range). Every failure
// is one line on stderr; nothing aborts.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <new>
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

// "bnorm fig1" when a subcommand was chosen, else "bnorm".
std::string prefix(const CLI::App& app) {
  const auto chosen = app.get_subcommands();
  return chosen.empty() ? "bnorm" : "bnorm " + chosen.front()->get_name();
}

// Results go to stdout; a full disk or closed pipe there is a failed run, not a silent success.
int check_stdout(const CLI::App& app) {
  std::cout.flush();
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout) || !std::cout.good()) {
    const int err = errno;
    std::cerr << prefix(app) << ": error writing to standard output"
              << (err != 0 ? std::string(": ") + std::strerror(err) : std::string()) << "\n";
    return 1;
  }
  return 0;
}

int parse_and_run(CLI::App& app, int argc, char** argv,
                  std::optional<bnorm::cli::DistributedSession>& session) {
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
    std::cerr << prefix(app) << ": " << one_line(e.what()) << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << prefix(app) << ": error: out of memory (try smaller sizes or fewer --jobs)\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << prefix(app) << ": error: " << one_line(e.what()) << "\n";
    return 1;
  } catch (...) {
    std::cerr << prefix(app) << ": error: unknown exception\n";
    return 1;
  }
  return check_stdout(app);
}

int run(CLI::App& app, int argc, char** argv) {
  std::optional<bnorm::cli::DistributedSession> session;  // MPI only under mpirun -np K > 1
  const int rc = parse_and_run(app, argc, argv, session);
  if (rc != 0 && session) session->abort_job(rc);  // the other ranks may be waiting in a collective
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  // Nothing may escape main (std::terminate would abort with 134): building the app can throw too.
  try {
    CLI::App app{"bnorm: Batch Normalization, exact and fast, and the paper's experiments"};
    app.require_subcommand(1);
    bnorm::cli::add_fig1_command(app);
    bnorm::cli::add_bench_command(app);
    bnorm::cli::add_paper_command(app);
    return run(app, argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bnorm: error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "bnorm: error: unknown exception\n");
  }
  return 1;
}
