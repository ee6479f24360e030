// run_bench: for each problem (shape x layout x op x dtype) every contender is prepared once; then
// for each thread count it is checked against the reference, and for each cache state the timed
// calls rotate through the contenders rep by rep (rep_order).
#include "runner.hpp"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <ostream>
#include <thread>

#include "bnorm/error.hpp"
#include "contender.hpp"
#include "run_limits.hpp"
#include "timer.hpp"
#include "torch_worker_path.hpp"
#include "verify.hpp"

namespace bnorm::bench {

void validate_options(const BenchOptions& o) {
  if (o.shapes.empty() || o.ops.empty() || o.threads.empty() || o.cold.empty() ||
      o.dtypes.empty()) {
    throw Error(
        "[bench] expected at least one shape, op, dtype, thread count and cache state, got none");
  }
  for (int t : o.threads) {
    if (t < 1) throw Error(fmt::format("[bench] expected thread counts >= 1, got {}", t));
  }
  if (o.reps < 1) throw Error(fmt::format("[bench] expected --reps >= 1, got {}", o.reps));
  if (o.cold_mib < 1) {
    throw Error(fmt::format("[bench] expected a cold-cache buffer >= 1 MiB, got {}", o.cold_mib));
  }
  std::vector<kernels::CpuIsa> seen;  // two contenders of one name could not be told apart
  for (kernels::CpuIsa isa : o.bnorm_isas) {
    if (std::find(seen.begin(), seen.end(), isa) != seen.end()) {
      throw Error(fmt::format("[bench] expected each --bnorm-isas value once, got {} twice",
                              kernels::to_string(isa)));
    }
    seen.push_back(isa);
  }
  check_fits_in_memory(o, physical_memory_bytes());
  check_kernel_choice();
}

namespace {

std::vector<std::unique_ptr<Contender>> make_contenders(const BenchOptions& o) {
  std::vector<std::unique_ptr<Contender>> all;
  all.push_back(make_bnorm_contender(o.cold_mib));
  for (kernels::CpuIsa isa : o.bnorm_isas) all.push_back(make_bnorm_contender(o.cold_mib, isa));
  const WorkerLookup worker = o.torch_worker.empty() ? find_torch_worker(running_program())
                                                     : WorkerLookup{.path = o.torch_worker};
  if (o.with_torch && worker.path.empty()) {
    all.push_back(make_missing_contender("torch", worker.missing));
    all.push_back(make_missing_contender("torch-avx512", worker.missing));
  } else if (o.with_torch) {
    all.push_back(make_torch_contender(o.python, worker.path, "", o.cold_mib, 1));
    // ATEN_CPU_CAPABILITY=avx512 on a CPU without it dies of SIGILL on the first kernel.
    if (__builtin_cpu_supports("avx512f")) {
      all.push_back(make_torch_contender(o.python, worker.path, "avx512", o.cold_mib, 2));
    } else {
      all.push_back(make_missing_contender("torch-avx512", "this CPU has no AVX-512 (avx512f)"));
    }
  } else {
    all.push_back(make_missing_contender("torch", "left out with --no-torch"));
    all.push_back(make_missing_contender("torch-avx512", "left out with --no-torch"));
  }
  if (o.with_onednn) {
    all.push_back(make_onednn_contender(false, o.cold_mib));
    all.push_back(make_onednn_contender(true, o.cold_mib));
  } else {
    all.push_back(make_missing_contender("onednn", "left out with --no-onednn"));
    all.push_back(make_missing_contender("onednn-best", "left out with --no-onednn"));
  }
  return all;
}

// Per problem: which contenders take part, and what went wrong for those that do not.
struct Entry {
  Contender* contender;
  std::string status;     // "ok" while it takes part
  bool prepared = false;  // for the current thread count
  bool anchor = true;
  std::string kernel;
  std::vector<double> samples;
};

// Lets the OpenMP pool of the process that ran last go to sleep before another process runs, so
// one contender's spinning threads do not steal the cores of the next.
void settle_if_switching(int& last_process, int process) {
  if (last_process != process && last_process >= 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  last_process = process;
}

CaseResult summarize_case(const Problem& p, int threads, bool cold,
                          const std::vector<Entry>& entries,
                          const std::vector<StreamResult>& stream) {
  CaseResult r{.shape = p.shape.name,
               .layout = std::string(layout_name(p.layout)),
               .op = std::string(to_string(p.op)),
               .dtype = std::string(to_string(p.dtype)),
               .threads = threads,
               .cache = cold ? "cold" : "hot",
               .numel = p.shape.numel(),
               .bytes = compulsory_bytes(p.op, p.shape.numel(), p.dtype)};
  auto keep_min = [](std::optional<double>& slot, double v) {
    if (!slot || v < *slot) slot = v;
  };
  for (const Entry& e : entries) {
    ContenderResult c{
        .name = e.contender->name(), .status = e.status, .kernel = e.kernel, .anchor = e.anchor};
    if (e.status == "ok" && !e.samples.empty()) c.timing = summarize(e.samples);
    if (c.timing) {
      const double us = c.timing->median_us;
      if (c.name == "bnorm") {
        r.bnorm_us = us;
      } else if (c.name.starts_with("torch")) {
        keep_min(r.torch_us, us);
      } else if (c.anchor) {
        keep_min(r.onednn_us, us);
      }
      if (c.name != "bnorm" && c.anchor && (!r.best_anchor_us || us < *r.best_anchor_us)) {
        r.best_anchor_us = us;
        r.best_anchor = c.name;
      }
    }
    r.contenders.push_back(std::move(c));
  }
  if (r.bnorm_us) {
    r.pct_of_stream = 100.0 * gb_per_s(r.bytes, *r.bnorm_us) / stream_scale_gbs(stream, threads);
  }
  return r;
}

// A bfloat16 row's float32 counterpart (same shape, layout, op, threads, cache), if it ran.
std::optional<double> float32_median(const std::vector<CaseResult>& done, const CaseResult& r) {
  for (const CaseResult& f : done) {
    if (f.dtype == "f32" && f.shape == r.shape && f.layout == r.layout && f.op == r.op &&
        f.threads == r.threads && f.cache == r.cache) {
      return f.bnorm_us;
    }
  }
  return std::nullopt;
}

// Every contender on one problem: checked against the reference, then timed rep by rep for each
// thread count and cache state; one CaseResult per (threads, cache) goes into report.
void run_problem(const Problem& problem, const BenchOptions& o,
                 const std::vector<std::unique_ptr<Contender>>& contenders, BenchReport& report,
                 std::ostream* log) {
  std::vector<Entry> entries;
  for (const auto& c : contenders) {
    entries.push_back({.contender = c.get(), .status = "missing"});
  }

  for (int threads : o.threads) {
    // bnorm's and oneDNN's OpenMP pools. Set before prepare: oneDNN may size its parallel
    // regions when the primitive is created.
    omp_set_num_threads(threads);
    for (Entry& e : entries) {
      Contender& c = *e.contender;
      if (!c.missing_reason().empty()) continue;
      e.status = "ok";
      try {
        c.set_threads(threads);
        e.prepared = c.prepare(problem);
        if (!e.prepared) {
          e.status = "n/a";
          continue;
        }
        e.anchor = c.anchor();
        e.kernel = c.kernel_name();
        const std::string bad =
            compare_outputs(c.check(), problem.reference, output_tolerance(problem.dtype));
        if (!bad.empty()) e.status = "wrong: " + bad;
      } catch (const std::exception& ex) {
        e.status = std::string("error: ") + ex.what();
      }
      if (log && e.status != "ok" && e.status != "n/a") {
        *log << fmt::format("  {} at {} thread(s): {}\n", c.name(), threads, e.status);
      }
    }
    for (bool cold : o.cold) {
      for (Entry& e : entries) e.samples.clear();
      int last_process = -1;
      for (int rep = 0; rep < o.reps; ++rep) {
        for (size_t k : rep_order(entries.size(), 1 + o.bnorm_isas.size(), rep)) {
          Entry& e = entries[k];
          if (e.status != "ok") continue;
          try {
            settle_if_switching(last_process, e.contender->process());
            // Hot means the state of a call repeated in a loop: the call just before leaves
            // the data, the code and the branch history in place. Without it, every timed
            // call follows another process and a pause, and a microsecond-sized call is
            // timed with cold instruction caches (23 us instead of 3 for 60x100).
            if (!cold) e.contender->run_us(false);
            e.samples.push_back(e.contender->run_us(cold));
          } catch (const std::exception& ex) {
            e.status = std::string("error: ") + ex.what();
          }
        }
      }
      CaseResult r = summarize_case(problem, threads, cold, entries, report.stream);
      if (problem.dtype == DType::kBfloat16) r.bnorm_f32_us = float32_median(report.cases, r);
      report.cases.push_back(std::move(r));
    }
  }
  for (const auto& c : contenders) {
    if (c->missing_reason().empty()) c->release();
  }
}

}  // namespace

std::vector<size_t> rep_order(size_t contenders, size_t bnorm_group, int rep) {
  const size_t slots = contenders - bnorm_group + 1;  // the group takes one slot
  const auto r = static_cast<size_t>(rep);
  std::vector<size_t> order;
  order.reserve(contenders);
  for (size_t k = 0; k < slots; ++k) {
    const size_t slot = (k + r) % slots;
    if (slot != 0) {
      order.push_back(bnorm_group + slot - 1);
      continue;
    }
    for (size_t i = 0; i < bnorm_group; ++i) order.push_back((i + r) % bnorm_group);
  }
  return order;
}

double stream_scale_gbs(const std::vector<StreamResult>& stream, int threads) {
  const StreamResult* best = nullptr;
  for (const StreamResult& s : stream) {
    if (best == nullptr || std::abs(s.threads - threads) < std::abs(best->threads - threads)) {
      best = &s;
    }
  }
  return best != nullptr ? best->scale_gbs : 0.0;
}

BenchReport run_bench(const BenchOptions& o, std::ostream* log) {
  validate_options(o);
  BenchReport report{.reps = o.reps, .cold_mib = o.cold_mib};
  for (int t : o.threads) {
    report.stream.push_back(measure_stream(t, o.stream_bytes, o.stream_reps));
    if (log) {
      const StreamResult& s = report.stream.back();
      *log << fmt::format(
          "STREAM {} thread(s): copy {:.1f}, scale {:.1f}, triad {:.1f}, scale with streaming "
          "stores {:.1f} GB/s\n",
          t, s.copy_gbs, s.scale_gbs, s.triad_gbs, s.scale_nt_gbs);
    }
  }
  const auto contenders = make_contenders(o);
  for (const auto& c : contenders) {
    report.contenders.push_back(
        {.name = c->name(), .missing = c->missing_reason(), .details = c->details()});
    if (log && !c->missing_reason().empty()) {
      *log << fmt::format("{}: missing ({})\n", c->name(), c->missing_reason());
    }
  }

  const Stopwatch run_time;
  for (const Shape& shape : o.shapes) {
    for (Layout layout : shape.layouts()) {
      for (Op op : o.ops) {
        for (DType dtype : o.dtypes) {
          if (log) {
            *log << fmt::format("[{:5.0f} s] {} {} {} {}\n", run_time.seconds(), shape.name,
                                layout_name(layout), to_string(op), to_string(dtype));
            log->flush();
          }
          run_problem(make_problem(shape, layout, op, 42, dtype), o, contenders, report, log);
        }
      }
    }
  }
  return report;
}

}  // namespace bnorm::bench
