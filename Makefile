# The two commands a user needs: `make run` and `make test`. Everything else is optional.
PRESET ?= release
BUILD := build/$(PRESET)
# Parallel build and test jobs: every core unless JOBS=... says otherwise.
JOBS ?= $(shell nproc)

.PHONY: all setup configure build run test test-sanitize check clean bench bench-mlp bench-cnn

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

check:
	scripts/check

# Steps/s of the paper's MLP, bnorm vs PyTorch (table + build/release/bench-mlp.json).
bench-mlp: build
	scripts/bench_mlp --build $(BUILD)

# Steps/s of the small CNN of `bnorm paper`, bnorm vs PyTorch (build/release/bench-cnn.json).
bench-cnn: build
	scripts/bench_cnn --build $(BUILD)

# The full `bnorm bench` run (see docs/bench.md for how long it takes): the table goes to
# build/bench.txt and the terminal, the rows to build/bench.json. Extra options: BENCH_ARGS=...
BENCH_ARGS ?=
bench: build
	./$(BUILD)/tools/bnorm/bnorm bench --json build/bench.json $(BENCH_ARGS) | tee build/bench.txt

clean:
	rm -rf build
