// Strict option values for the command line. CLI11 2.1.2 clamps out-of-range integers (and reads
// "-1" as UINT64_MAX for an unsigned), accepts inf/nan and drops empty list items; these parsers
// take the option's text and accept only a whole, in-range number, else a usage error (exit 2).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
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
// "0.1,0.3,1": each item as parse_double; an empty item ("0.1,,1", a trailing comma) is an error.
std::vector<double> parse_double_list(const std::string& option, const std::string& text,
                                      double min, double max);

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

}  // namespace bnorm::cli
