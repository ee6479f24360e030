// Strict option values for the command line. CLI11 2.1.2 clamps out-of-range integers (and reads
// "-1" as UINT64_MAX for an unsigned), accepts inf/nan and drops empty list items; these parsers
// take the option's text and accept only a whole, in-range number, else a usage error (exit 2).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bnorm::cli {

// The most threads or jobs an option accepts: more than 4 per core only adds memory (a stack and
// buffers per thread) and contention, and 1000 threads can exhaust a limited address space.
int max_threads();

// "--steps" with text "12": 12 if the text is a whole decimal integer in [min, max].
// Throws CLI::ValidationError (a usage error) naming the option, the range and the text.
int64_t parse_int(const std::string& option, const std::string& text, int64_t min, int64_t max);
uint64_t parse_uint64(const std::string& option, const std::string& text);
// A finite number in [min, max] (max_open: in [min, max)).
double parse_double(const std::string& option, const std::string& text, double min, double max,
                    bool max_open = false);
// "a,b,c" split at commas; an empty item ("0.1,,1", a trailing comma) is an error saying that a
// list of `of` ("numbers") was expected.
std::vector<std::string> split_list(const std::string& option, const std::string& text,
                                    const std::string& of);
// "0.1,0.3,1": each item as parse_double (or parse_int), empty items refused as in split_list.
std::vector<double> parse_double_list(const std::string& option, const std::string& text,
                                      double min, double max);
std::vector<int64_t> parse_int_list(const std::string& option, const std::string& text, int64_t min,
                                    int64_t max);

// Registers an option whose text is checked by parse_int and stored in `target` (which must
// outlive the app); its current value is shown as the default.
template <typename Int>
CLI::Option* add_int_option(CLI::App* cmd, const std::string& name, Int& target, int64_t min,
                            int64_t max, const std::string& help) {
  return cmd
      ->add_option_function<std::string>(
          name,
          [&target, name, min, max](const std::string& text) {
            target = static_cast<Int>(parse_int(name, text, min, max));
          },
          help + " [" + std::to_string(min) + ".." + std::to_string(max) + "]")
      ->default_str(std::to_string(target));
}

// --data-dir, --out and --quiet of the commands that train on a dataset and write a report (Args
// has data_dir, out and quiet), and the command's callback. The callback owns args (the options
// write into it), so it is set even when nothing runs (run_it false, for the option fuzzer).
template <typename Args>
void add_data_out_quiet_and_run(CLI::App* cmd, const std::shared_ptr<Args>& args, bool run_it,
                                void (*run)(const Args&)) {
  cmd->add_option("--data-dir", args->data_dir,
                  "folder holding mnist/ and fashion-mnist/ (default: data/ for mnist, "
                  "/usr/share/datasets for fashion; or env BNORM_DATA_DIR)");
  cmd->add_option("--out", args->out, "output directory")->capture_default_str();
  cmd->add_flag("--quiet", args->quiet, "no progress output");
  cmd->callback([args, run_it, run] {
    if (run_it) run(*args);
  });
}

}  // namespace bnorm::cli
