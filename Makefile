# ViTLens: `make demo` runs the main job, `make test` runs the test suite. Both set up what they need.
SWIFT ?= swift
# Release builds target AVX2/FMA machines (x86-64 Haswell and newer); override with ARCHFLAGS= for older CPUs.
ARCHFLAGS ?= $(shell uname -m | grep -q x86_64 && echo "-Xswiftc -target-cpu -Xswiftc haswell")

.PHONY: setup build release test demo bench fixtures
setup:
	bash scripts/setup.sh

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release $(ARCHFLAGS)

test: setup
	$(SWIFT) test

demo: release
	bash scripts/demo.sh

bench: release
	bash scripts/bench.sh

fixtures:
	bash tools/make_fixtures.sh
