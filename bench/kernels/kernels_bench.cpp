// Micro-benchmark of the BatchNorm kernels through the BatchNorm module (what a network calls):
// training forward (with the running-statistics update), inference forward and backward, on the
// issue's shapes, at 1 and 2 threads, hot (same buffers every call) and cold (a 128 MiB buffer
// is read before each call). Prints the median and minimum time of many repetitions and the
// bandwidth by the anchors' byte count (forward 8 B/element, backward 12 B/element).
//
//   bnorm_kernels_bench [--backend auto|reference] [--threads 1,2] [--cold] [--filter text]
//                       [--min-reps N] [--seconds S]
#include <omp.h>

#include <algorithm>
#include <bnorm/batch_norm.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using bnorm::Backend;
using bnorm::BatchNorm;
using bnorm::Layout;
using bnorm::Mode;
using bnorm::TensorDesc;

struct Shape {
  const char* name;
  TensorDesc desc;
};

struct Options {
  Backend backend = Backend::kAuto;
  std::vector<int> threads = {1, 2};
  bool cold = false;
  std::string filter;
  int min_reps = 20;
  double seconds = 0.3;  // per case, after the minimum repetitions
};

std::vector<Shape> shapes() {
  return {
      {"fc_256x1024/nc", {{256, 1024}, Layout::kNC}},
      {"fc_60x100/nc", {{60, 100}, Layout::kNC}},
      {"conv_32x64x56x56/nchw", {{32, 64, 56, 56}, Layout::kChannelsFirst}},
      {"conv_32x64x56x56/nhwc", {{32, 64, 56, 56}, Layout::kChannelsLast}},
      {"conv_64x256x14x14/nchw", {{64, 256, 14, 14}, Layout::kChannelsFirst}},
      {"conv_64x256x14x14/nhwc", {{64, 256, 14, 14}, Layout::kChannelsLast}},
      {"conv_64x128x56x56/nchw", {{64, 128, 56, 56}, Layout::kChannelsFirst}},
      {"conv_64x128x56x56/nhwc", {{64, 128, 56, 56}, Layout::kChannelsLast}},
  };
}

// Reads a buffer larger than the caches so the next call starts from memory.
void evict_caches() {
  static std::vector<char> junk(128u << 20, 1);
  static volatile char sink = 0;
  char acc = 0;
  for (size_t i = 0; i < junk.size(); i += 64) acc = static_cast<char>(acc + junk[i]);
  sink = static_cast<char>(sink + acc);
}

template <typename F>
std::vector<double> time_us(const Options& o, F&& f) {
  std::vector<double> us;
  const auto start = std::chrono::steady_clock::now();
  for (int rep = 0;; ++rep) {
    if (o.cold) evict_caches();
    const auto t0 = std::chrono::steady_clock::now();
    f();
    const auto t1 = std::chrono::steady_clock::now();
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    const double elapsed = std::chrono::duration<double>(t1 - start).count();
    if (rep + 1 >= o.min_reps && elapsed > o.seconds) break;
    if (rep > 100000) break;
  }
  return us;
}

void report(const Shape& s, const char* op, int threads, const Options& o, double bytes_per_elem,
            std::vector<double> us) {
  std::sort(us.begin(), us.end());
  const double median = us[us.size() / 2];
  size_t numel = 1;
  for (int64_t d : s.desc.dims) numel *= static_cast<size_t>(d);
  const double gbs = bytes_per_elem * static_cast<double>(numel) / (median * 1e3);
  std::printf("%-24s %-10s%-5s %dt %10.2f us (min %9.2f)  %7.1f GB/s  %s  reps %zu\n", s.name, op,
              o.cold ? "@cold" : "", threads, median, us.front(), gbs,
              bnorm::selected_kernel_name<float>(s.desc, o.backend), us.size());
}

void run_shape(const Shape& s, int threads, const Options& o) {
  const auto want = [&](const char* op) {
    return o.filter.empty() || (std::string(s.name) + " " + op).find(o.filter) != std::string::npos;
  };
  if (!want("fwd_train") && !want("fwd_infer") && !want("backward")) return;
  omp_set_num_threads(threads);
  size_t numel = 1;
  for (int64_t d : s.desc.dims) numel *= static_cast<size_t>(d);
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.5f, 2.0f);
  std::vector<float> x(numel), y(numel), dy(numel), dx(numel);
  for (auto* v : {&x, &dy})
    for (float& e : *v) e = dist(rng);
  BatchNorm<float> bn(
      {.num_features = s.desc.dims[1], .layout = s.desc.layout, .backend = o.backend});
  if (want("fwd_train")) {
    report(s, "fwd_train", threads, o, 8,
           time_us(o, [&] { bn.forward(x, s.desc, y, Mode::kTrain); }));
  }
  if (want("fwd_infer")) {
    report(s, "fwd_infer", threads, o, 8,
           time_us(o, [&] { bn.forward(x, s.desc, y, Mode::kInference); }));
  }
  if (want("backward")) {
    bn.forward(x, s.desc, y, Mode::kTrain);
    report(s, "backward", threads, o, 12, time_us(o, [&] { bn.backward(x, dy, dx); }));
  }
}

int usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--backend auto|reference] [--threads 1,2] [--cold] [--filter text] "
               "[--min-reps N] [--seconds S]\n",
               argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--cold") {
      o.cold = true;
    } else if (a == "--backend" && has_value) {
      const std::string b = argv[++i];
      if (b != "auto" && b != "reference") return usage(argv[0]);
      o.backend = b == "auto" ? Backend::kAuto : Backend::kReference;
    } else if (a == "--threads" && has_value) {
      o.threads.clear();
      for (const char* p = argv[++i]; *p != '\0';) {
        char* end = nullptr;
        o.threads.push_back(static_cast<int>(std::strtol(p, &end, 10)));
        if (end == p || o.threads.back() < 1) return usage(argv[0]);
        p = *end == ',' ? end + 1 : end;
      }
    } else if (a == "--filter" && has_value) {
      o.filter = argv[++i];
    } else if (a == "--min-reps" && has_value) {
      o.min_reps = std::atoi(argv[++i]);
    } else if (a == "--seconds" && has_value) {
      o.seconds = std::atof(argv[++i]);
    } else {
      return usage(argv[0]);
    }
  }
  std::printf("# median and minimum over repetitions; %s; BNORM_CPU_ISA=%s\n",
              o.cold ? "cold: 128 MiB read before each call" : "hot",
              std::getenv("BNORM_CPU_ISA") ? std::getenv("BNORM_CPU_ISA") : "(auto)");
  for (int t : o.threads)
    for (const Shape& s : shapes()) run_shape(s, t, o);
  return 0;
}
