# The two commands a user needs: `make run` and `make test`. Everything else is optional.
PRESET ?= release
BUILD := build/$(PRESET)
# Parallel build and test jobs: every core unless JOBS=... says otherwise.
JOBS ?= $(shell nproc)

.PHONY: all setup configure build run test test-sanitize fuzz check clean bench bench-mlp bench-cnn bench-torch results bench-targets e1-isas

all: build

setup:
	@scripts/setup

configure: setup
	@cmake --preset $(PRESET) >/dev/null

build: configure
	@cmake --build --preset $(PRESET) -j $(JOBS)

# The main job: Figure 1 of the paper (bnorm fig1 with its defaults); prints where the report is.
run: build
	./$(BUILD)/tools/bnorm/bnorm fig1

test: build
	ctest --preset $(PRESET) -j $(JOBS)

# The whole suite under AddressSanitizer and UndefinedBehaviorSanitizer.
test-sanitize: setup
	@cmake --preset asan-ubsan >/dev/null
	@cmake --build --preset asan-ubsan -j $(JOBS)
	ctest --preset asan-ubsan -j $(JOBS)

# Each libFuzzer target of fuzz/ (FUZZ_TARGETS) for FUZZ_SECONDS (default 60), or for FUZZ_RUNS
# inputs when that is set, from its committed seed corpus (new inputs go to
# build/fuzz/corpus/<target>, findings to build/fuzz/findings). Needs clang.
FUZZ_SECONDS ?= 60
FUZZ_RUNS ?=
FUZZ_TARGETS ?= idx checkpoint bench_shape cli_options
FUZZ_LIMIT = $(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS),-max_total_time=$(FUZZ_SECONDS))
fuzz: setup
	@cmake -S . -B build/fuzz -DCMAKE_CXX_COMPILER=clang++ -DBNORM_FUZZ=ON \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build/fuzz -j2 $(addprefix --target fuzz_,$(FUZZ_TARGETS))
	@mkdir -p build/fuzz/findings
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus/$$t; \
	  echo "fuzz_$$t: $(FUZZ_LIMIT)"; \
	  ASAN_OPTIONS=detect_leaks=1 build/fuzz/fuzz/fuzz_$$t $(FUZZ_LIMIT) \
	    -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=build/fuzz/findings/$$t- build/fuzz/corpus/$$t fuzz/corpus/$$t \
	    >build/fuzz/$$t.log 2>&1 || { tail -40 build/fuzz/$$t.log; exit 1; }; \
	  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" build/fuzz/$$t.log; \
	done

check:
	scripts/check

# Steps/s of the paper's MLP, bnorm vs PyTorch (table + build/release/bench-mlp.json).
bench-mlp: build
	bench/scripts/run_steps.py --model mlp --build $(BUILD)

# Steps/s of the small CNN of `bnorm paper`, bnorm vs PyTorch (build/release/bench-cnn.json).
bench-cnn: build
	bench/scripts/run_steps.py --model cnn --build $(BUILD)

# torch.nn.BatchNorm2d vs bnorm.torch.BatchNorm2d and a resnet18 step (build/<preset>/bench-torch.json;
# docs/python.md). Extra options: BENCH_TORCH_ARGS=--reps 3
BENCH_TORCH_ARGS ?=
bench-torch: build
	PYTHONPATH=$(BUILD)/python /usr/bin/python3 bench/torch/bnorm_torch_vs_native.py \
	  --json $(BUILD)/bench-torch.json $(BENCH_TORCH_ARGS)

# The full `bnorm bench` run (see docs/bench.md for how long it takes): the table goes to
# build/bench.txt and the terminal, the rows to build/bench.json. Each bfloat16 case runs right
# after its float32 case (the results page compares them); BENCH_DTYPES=f32 leaves bf16 out.
# Extra options: BENCH_ARGS=...
BENCH_ARGS ?=
BENCH_DTYPES ?= f32,bf16
BENCH_CMD = ./$(BUILD)/tools/bnorm/bnorm bench --dtype $(BENCH_DTYPES) --json build/bench.json \
  $(BENCH_ARGS)
bench: build
	$(BENCH_CMD) | tee build/bench.txt

# The kernel targets, on one `bnorm bench` run that also times bnorm with each ISA forced
# (bnorm-avx2, bnorm-avx512; one the CPU lacks is listed as missing), interleaved with the
# default dispatch: table in build/bench-targets.txt, rows in build/bench-targets.json, then the
# targets of that JSON. The same BENCH_ARGS as make bench (float32 only unless they say --dtype).
BENCH_ISAS ?= avx2,avx512
bench-targets: build
	./$(BUILD)/tools/bnorm/bnorm bench --bnorm-isas $(BENCH_ISAS) --json build/bench-targets.json \
	  $(BENCH_ARGS) >build/bench-targets.txt
	bench/scripts/targets.py build/bench-targets.json

# docs/results.md, the page of current results: a full `make bench` (float32 and bfloat16),
# Figure 1 (what `make run` writes), the paper's suite (PAPER_ARGS=--quick for the short forms),
# the step and bnorm.torch benchmarks; then the page from their files, with the machine, the date
# and the commands.
PAPER_ARGS ?=
results: bench bench-mlp bench-cnn bench-torch
	./$(BUILD)/tools/bnorm/bnorm fig1 --out out/fig1
	./$(BUILD)/tools/bnorm/bnorm paper all $(PAPER_ARGS) --out out/paper
	bench/scripts/results.py build/bench.json --command "$(BENCH_CMD)" --out docs/results.md \
	  --fig1 out/fig1/summary.json --paper out/paper/summary.json \
	  --paper-command "bnorm paper all $(PAPER_ARGS)" \
	  $(foreach isa,$(E1_ISAS),$(if $(wildcard out/e1-$(isa)/summary.json),--e1-isa $(isa)=out/e1-$(isa)/summary.json)) \
	  --steps $(BUILD)/bench-mlp.json $(BUILD)/bench-cnn.json --torch $(BUILD)/bench-torch.json

# E1's verdict with each other kernel build forced (PAPER.md, E1: a verdict that one ISA's last
# bits flip is noise); `make results` shows the ones present in out/ beside the default's.
E1_ISAS ?= avx2 scalar
e1-isas: build
	@for isa in $(E1_ISAS); do \
	  BNORM_CPU_ISA=$$isa ./$(BUILD)/tools/bnorm/bnorm paper E1 $(PAPER_ARGS) --out out/e1-$$isa \
	    || exit 1; \
	done

clean:
	rm -rf build
