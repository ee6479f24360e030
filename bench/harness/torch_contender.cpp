// PyTorch as a contender, through torch_worker.py in a persistent /usr/bin/python3 process: one
// process per kernel set (default, and ATEN_CPU_CAPABILITY=avx512). The worker times each call
// itself, so pipe latency is not in the numbers. Problem data travels through files in a private
// directory (tmpfs when available), written once per problem. bfloat16 problems travel as float32
// files holding bfloat16 values; the worker converts x and dy, PyTorch's mixed precision keeps
// the parameters and statistics in float32.
//
// The worker runs with glibc's mmap disabled and trimming off: PyTorch's functional ops allocate
// their outputs, and a freshly mmapped output would be page-faulted in on every call, timing the
// kernel plus the OS instead of the kernel (bnorm and oneDNN write into buffers allocated once).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "bnorm/error.hpp"
#include "contender.hpp"
#include "worker_process.hpp"

namespace bnorm::bench {
namespace {

namespace fs = std::filesystem;

void write_floats(const fs::path& path, const float* data, size_t n) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n * sizeof(float)));
  if (!out) throw Error("[bench] expected to write " + path.string() + ", got a write error");
}
void write_floats(const fs::path& path, const std::vector<float>& v) {
  write_floats(path, v.data(), v.size());
}
void write_floats(const fs::path& path, const std::vector<double>& v) {
  const std::vector<float> f(v.begin(), v.end());
  write_floats(path, f);
}

std::vector<float> read_floats(const fs::path& path, size_t n) {
  std::vector<float> v(n);
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(float)));
  if (!in) {
    throw Error("[bench] expected " + std::to_string(n) + " floats in " + path.string() +
                " from the PyTorch worker, got fewer");
  }
  return v;
}

// A fresh private directory, on tmpfs when /dev/shm exists.
fs::path make_scratch_dir() {
  std::string pattern =
      (fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path()) /
      "bnorm-bench-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    throw Error("[bench] expected a scratch directory like " + pattern + ", got none");
  }
  return pattern;
}

class TorchContender final : public Contender {
 public:
  TorchContender(const std::string& python, const std::string& script,
                 const std::string& capability, int cold_mib, int process_id)
      : capability_(capability), process_id_(process_id) {
    std::vector<std::string> env = {"MALLOC_MMAP_MAX_=0", "MALLOC_TRIM_THRESHOLD_=68719476736",
                                    "BNORM_BENCH_COLD_MIB=" + std::to_string(cold_mib)};
    if (!capability.empty()) env.push_back("ATEN_CPU_CAPABILITY=" + capability);
    if (access(python.c_str(), X_OK) != 0) {
      missing_ = "no Python interpreter at " + python + " (install python3-torch)";
      return;
    }
    if (access(script.c_str(), R_OK) != 0) {
      missing_ = "no worker script at " + script;
      return;
    }
    try {
      worker_ = std::make_unique<WorkerProcess>(std::vector<std::string>{python, script}, env);
      const std::string hello = worker_->request("hello");
      if (hello.starts_with("ok ")) {
        details_ = "torch " + hello.substr(3);
      } else {
        missing_ = hello.starts_with("missing ") ? hello.substr(8) : hello;
        worker_.reset();
      }
    } catch (const Error& e) {
      missing_ = e.what();
      worker_.reset();
    }
    if (worker_) dir_ = make_scratch_dir();
  }

  ~TorchContender() override {
    worker_.reset();
    if (!dir_.empty()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

  std::string name() const override {
    return capability_.empty() ? "torch" : "torch-" + capability_;
  }
  std::string missing_reason() const override { return missing_; }
  std::string details() const override { return details_; }
  int process() const override { return process_id_; }

  bool prepare(const Problem& p) override {
    p_ = &p;
    write_floats(dir_ / "x.bin", p.x);
    write_floats(dir_ / "gamma.bin", p.gamma);
    write_floats(dir_ / "beta.bin", p.beta);
    write_floats(dir_ / "mean.bin", p.running_mean);
    write_floats(dir_ / "var.bin", p.running_var);
    if (p.op == Op::kBackward) {
      write_floats(dir_ / "dy.bin", p.dy);
      write_floats(dir_ / "save_mean.bin", p.save_mean);
      write_floats(dir_ / "save_invstd.bin", p.save_invstd);
    }
    std::ostringstream dims;
    for (size_t i = 0; i < p.shape.dims.size(); ++i) dims << (i ? "," : "") << p.shape.dims[i];
    std::ostringstream eps;
    eps.precision(17);
    eps << p.eps;
    expect_ok(worker_->request("setup " + std::string(to_string(p.op)) + " " +
                               std::string(layout_name(p.layout)) + " " + dims.str() + " " +
                               eps.str() + " " + dir_.string() + " " +
                               std::string(to_string(p.dtype))));
    clear_files();  // the worker holds its own copies now
    return true;
  }

  void set_threads(int threads) override {
    expect_ok(worker_->request("threads " + std::to_string(threads)));
  }

  Outputs check() override {
    expect_ok(worker_->request("check " + dir_.string()));
    Outputs o;
    const size_t numel = p_->x.size(), c = p_->gamma.size();
    if (p_->op == Op::kBackward) {
      o.dx = read_floats(dir_ / "dx.bin", numel);
      o.dgamma = read_floats(dir_ / "dgamma.bin", c);
      o.dbeta = read_floats(dir_ / "dbeta.bin", c);
    } else {
      o.y = read_floats(dir_ / "y.bin", numel);
    }
    clear_files();
    return o;
  }

  double run_us(bool cold) override {
    const std::string answer = worker_->request(cold ? "run cold" : "run hot");
    expect_ok(answer);
    return std::stod(answer.substr(3));
  }

 private:
  void expect_ok(const std::string& answer) const {
    if (!answer.starts_with("ok")) {
      throw Error("[bench] expected the PyTorch worker (" + name() + ") to answer ok, got '" +
                  answer + "'");
    }
  }
  void clear_files() const {
    for (const auto& entry : fs::directory_iterator(dir_)) fs::remove(entry.path());
  }

  std::string capability_;
  int process_id_;
  std::string missing_, details_;
  std::unique_ptr<WorkerProcess> worker_;
  fs::path dir_;
  const Problem* p_ = nullptr;
};

}  // namespace

std::unique_ptr<Contender> make_torch_contender(const std::string& python,
                                                const std::string& worker_script,
                                                const std::string& capability, int cold_mib,
                                                int process_id) {
  return std::make_unique<TorchContender>(python, worker_script, capability, cold_mib, process_id);
}

}  // namespace bnorm::bench
