# Prefer — the RLHF workbench that runs in a browser tab.
#
#   make run    build everything and serve the workbench with the demo on :8080
#   make test   install what the tests need, then run every check and test
#   make bench  print the benchmark table (native and wasm side by side)
#
# Works on a fresh Debian machine with Go 1.26 at /usr/local/go.

SHELL   := /bin/bash
GO      ?= go
export PATH := $(PATH):/usr/local/go/bin
# Never build core with GOAMD64=v3: the compiler would fuse a*b+c into FMA and
# native results would stop matching wasm bit for bit.
export GOAMD64 := v1
GOROOT  := $(shell $(GO) env GOROOT)
# Go's go_js_wasm_exec with the SIMD kernels linked (docs/lm.md): Go's own wrapper
# cannot instantiate a binary that links core/simd (core/lm, core/reward, …).
WASMEXEC := $(CURDIR)/wasm/exec/go_js_wasm_exec
WASMENV := GOOS=js GOARCH=wasm
WEB     := static/web
ADDR    ?= :8080
DATA    ?= prefer-data
BIN     := bin/prefer

.PHONY: all run build wasm test check test-native test-wasm test-arm64 deps bench bench-setup fuzz clean

all: build

# ---------------------------------------------------------------- build

wasm: $(WEB)/simd.wasm $(WEB)/app.wasm $(WEB)/worker.wasm

GO_SOURCES := $(shell find app core wasm -name '*.go' -not -name '*_test.go' 2>/dev/null) go.mod go.sum

# The SIMD kernel module is written by a Go generator (no assembler to install) and
# committed; this rewrites it when the generator changes (same bytes otherwise).
$(WEB)/simd.wasm: $(shell find core/simd/module -name '*.go' -not -name '*_test.go') server/tools/simdgen/main.go
	$(GO) run ./server/tools/simdgen $@

# The wasm binaries are built without the symbol table and DWARF (-s -w): for wasm
# that drops the "name" section, 33 KB of the UI's brotli transfer, which only
# devtools' profiles read (Go's own stack traces use pclntab, which stays). Build
# with WASMLDFLAGS= to profile with function names.
WASMLDFLAGS ?= -s -w

$(WEB)/app.wasm: $(GO_SOURCES)
	$(WASMENV) $(GO) build -trimpath -ldflags="$(WASMLDFLAGS)" -o $@ ./wasm/ui
	$(GO) run ./server/tools/precompress $@

$(WEB)/worker.wasm: $(GO_SOURCES)
	$(WASMENV) $(GO) build -trimpath -ldflags="$(WASMLDFLAGS)" -o $@ ./wasm/worker
	$(GO) run ./server/tools/precompress $@

build: wasm
	$(GO) build -trimpath -o $(BIN) ./server

run: build
	$(BIN) serve --addr $(ADDR) --data $(DATA)

# ---------------------------------------------------------------- test

# deps installs what the tests need on a fresh machine: Chromium for the browser
# tests, the JavaScript msgpack library and the official openai client for the
# interoperability tests, curl for the raw streaming test, PostgreSQL for the
# second store, qemu-user to run the arm64 build of the pinned-hash tests, and
# numpy for the safetensors snippet's test (Debian's python3-numpy). Each step is
# skipped when already done.
deps:
	@command -v qemu-aarch64 >/dev/null || { echo "installing qemu-user"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq qemu-user >/dev/null; }
	@command -v chromium >/dev/null || { echo "installing chromium"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }
	@command -v node >/dev/null || { echo "installing nodejs"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq nodejs npm >/dev/null; }
	@test -d testdata/interop/node_modules/@msgpack/msgpack || npm ci --prefix testdata/interop --no-audit --no-fund
	@test -d testdata/openai/node_modules/openai || npm ci --prefix testdata/openai --no-audit --no-fund
	@command -v curl >/dev/null || { echo "installing curl"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq curl >/dev/null; }
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { echo "installing postgresql"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql >/dev/null; }
	@/usr/bin/python3 -c 'import numpy' 2>/dev/null || python3 -c 'import numpy' 2>/dev/null || { echo "installing python3-numpy"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-numpy >/dev/null; }

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(WASMENV) $(GO) vet ./core/... ./app/... ./wasm/...

# A throwaway PostgreSQL cluster on loopback for the second store's half of the
# server tests; the script prints its DSN (and reprints it if already running).
PGSTART := server/store/testdata/start-postgres.sh

# The PostgreSQL store reads events below a watermark, the oldest transaction still
# open in the whole cluster (docs/server.md, "PostgreSQL"): two packages' tests on the
# one test cluster hide each other's fresh writes for as long as one holds a
# transaction open, and tests that read their own writes at once then fail. So the
# store's two heaviest users, server/api and server/store/postgres, run after the
# rest, one package at a time (about 15 s); server/cli, the only other user, runs in
# the first group.
PGSERIAL := prefer/server/api prefer/server/store/postgres
TESTENV := PREFER_REQUIRE_PG=1 PREFER_REQUIRE_INTEROP=1 PREFER_REQUIRE_BROWSER=1 PREFER_LONG_TESTS=1 PREFER_E2E_BIN=$(CURDIR)/$(BIN)

test-native:
	export PREFER_TEST_PG_DSN="$$($(PGSTART) start)" && \
	$(TESTENV) $(GO) test -count=1 -timeout 25m $$($(GO) list ./... | grep -v -x $(foreach p,$(PGSERIAL),-e $(p))) && \
	$(TESTENV) $(GO) test -count=1 -timeout 10m -p 1 $(PGSERIAL)

# The core again under wasm (Node) with the SIMD kernels (PREFER_REQUIRE_SIMD: their
# tests fail rather than skip without them), including the short runs of its fuzz
# corpora, and the worker's jobs (app/work: the parity cases, the pinned runs) as the
# browser runs them; then the pinned runs of the packages that use the kernels with
# the kernel module refused (an invalid module: the loader falls back to the Go
# kernels), which must give the same hashes.
test-wasm:
	PREFER_REQUIRE_SIMD=1 $(WASMENV) $(GO) test -count=1 -timeout 20m -exec="$(WASMEXEC)" ./core/... ./app/work/...
	PREFER_SIMD_WASM=$(CURDIR)/core/simd/testdata/refused.wasm $(WASMENV) $(GO) test -count=1 -timeout 10m -exec="$(WASMEXEC)" \
	  -run 'Pinned|PPO|Fallback' ./core/lm ./core/reward ./core/simd ./app/work

# The tests that pin results bit for bit, built for arm64 (where the Go compiler
# would fuse multiply-adds: core/fma_test.go keeps core free of them) and run
# under qemu-user: core's pinned hashes and bit-identity checks, and the worker's
# parity cases. A few minutes.
ARM64PINNED := TestAnalyzeIsDeterministic TestGoldenSnapshot TestGeneratePure TestPretrainPinned TestPolicyPPO \
  TestKernelOrder TestExp32 TestExpSliceBlocks TestTanh32 TestIncrementalEqualsFull TestInferEqualsKept \
  TestRowsIndependentOfBatch TestExpLogAgreeWithMath TestSpecialCases TestTanh TestVec32 TestSoftmaxSumsToOne \
  TestDeterminism TestTrainingIsPinned TestGoldenStream TestSameSeedSameStream TestGoldenV1 TestParity TestOptimizeLMPinned
SPACE := $(subst x, ,x)
test-arm64:
	CGO_ENABLED=0 GOARCH=arm64 $(GO) test -count=1 -timeout 20m -exec=qemu-aarch64 -run '^($(subst $(SPACE),|,$(strip $(ARM64PINNED))))$$' ./core/... ./app/work/...

test: deps check build
	$(MAKE) test-native
	$(MAKE) test-wasm
	$(MAKE) test-arm64

# ---------------------------------------------------------------- bench

BENCH_DIR := build/bench
BENCHTIME ?= 1s
# The commit before issue 17's memory work: make bench builds its prefer binary from
# a git worktree under build/ and measures the same commands with both (the table's
# "before" column).
BEFORE_COMMIT := 040dc26
BEFORE_BIN := build/prefer-before

# bench-setup installs what only the benchmarks need: scikit-learn for the reward
# model's comparison (Debian's python3-sklearn), GNU time (BenchmarkMemory reads each
# command's own peak from it), and the binary of BEFORE_COMMIT. Any may be missing
# (no sudo, a shallow clone): the benchmarks then say so or fall back.
bench-setup:
	@test -x /usr/bin/time || { $(SUDO) apt-get install -y -qq time >/dev/null; } || \
	  echo "GNU time could not be installed: BenchmarkMemory's peaks include a floor of its own size"
	@/usr/bin/python3 -c 'import sklearn' 2>/dev/null || python3 -c 'import sklearn' 2>/dev/null || \
	  { echo "installing python3-sklearn"; $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-sklearn >/dev/null; } || \
	  echo "python3-sklearn could not be installed: the scikit-learn comparison will be skipped"
	@test -x $(BEFORE_BIN) || { test -d build/before || git worktree add --detach build/before $(BEFORE_COMMIT) >/dev/null 2>&1; } && \
	  { test -x $(BEFORE_BIN) || (cd build/before && $(GO) build -trimpath -o ../prefer-before ./server); } || \
	  echo "commit $(BEFORE_COMMIT) is not at hand (git worktree failed): no before figures"

# make bench's reference rows: TensorFlow.js (npm, pinned) and PyTorch (Debian's
# python3-torch, large, so installed here and not by deps); without them their
# benchmarks are skipped with the reason. The wasm benchmarks of the packages with SIMD
# kernels run twice: with the kernels and with the Go kernels (PREFER_SIMD=off).
bench: deps build bench-setup
	@mkdir -p $(BENCH_DIR)
	@test -d core/lm/testdata/tfjs/node_modules/@tensorflow || npm ci --prefix core/lm/testdata/tfjs --no-audit --no-fund
	@/usr/bin/python3 -c 'import torch' 2>/dev/null || { echo "installing python3-torch (the PyTorch reference)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-torch >/dev/null; } || echo "python3-torch not installed: the PyTorch rows are skipped"
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) ./core/... | tee $(BENCH_DIR)/native.txt
	$(WASMENV) $(GO) test -exec="$(WASMEXEC)" -run '^$$' -bench . -benchtime $(BENCHTIME) ./core/... | tee $(BENCH_DIR)/wasm.txt
	PREFER_SIMD=off $(WASMENV) $(GO) test -exec="$(WASMEXEC)" -run '^$$' -bench . -benchtime $(BENCHTIME) ./core/lm ./core/reward | tee $(BENCH_DIR)/wasm-go.txt
	export PREFER_TEST_PG_DSN="$$($(PGSTART) start)" && PREFER_E2E_BIN=$(CURDIR)/$(BIN) \
	  PREFER_BENCH_BEFORE_BIN=$$(test -x $(BEFORE_BIN) && echo $(CURDIR)/$(BEFORE_BIN)) PREFER_BENCH_DIR=$(CURDIR)/$(BENCH_DIR) \
	  $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./server/... | tee $(BENCH_DIR)/server.txt
	@echo; echo "Prefer benchmarks ($$(date -u +%F), $$(nproc) cores, $$($(GO) version | cut -d' ' -f3))"; echo
	@$(GO) run ./server/tools/benchtable -gokernels $(BENCH_DIR)/wasm-go.txt $(BENCH_DIR)/native.txt $(BENCH_DIR)/wasm.txt $(BENCH_DIR)/server.txt

# Long fuzzing runs (not part of make test, which replays the kept corpora).
FUZZTIME ?= 10m
fuzz:
	$(GO) test ./core/snapshot -run '^$$' -fuzz FuzzUnmarshal -fuzztime $(FUZZTIME)

clean:
	rm -rf bin build $(WEB)/*.wasm $(WEB)/*.wasm.br $(WEB)/*.wasm.gz
	git worktree prune 2>/dev/null || true
