# dnswatch: `make demo` and `make test` are the quick start (README.md).
SWIFT ?= swift
.PHONY: deps build release test demo bench fuzz dist clean

deps:
	@scripts/install-deps

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Tests run one at a time: several start Unbound, child processes and loopback servers, and blocking
# waits in parallel tests would starve the 2-core cooperative thread pool and distort timeouts.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --no-parallel

# libFuzzer targets (docs/fuzzing.md): builds them into .build-fuzz, runs each for FUZZ_SECONDS, prints the
# executions of each and fails on any crash.
FUZZ_SECONDS ?= 60
fuzz: deps
	SWIFT=$(SWIFT) scripts/fuzz $(FUZZ_SECONDS)

demo: release
	scripts/demo

bench: release
	scripts/bench --queries --feed --warninglists --cof --limits --db auto

# The release (docs/operations.md#install): dist/dnswatch-VERSION-linux-ARCH.tar.gz, dist/dnswatch_VERSION_DEBARCH.deb
# and dist/SHA256SUMS, the binary built with the Swift runtime linked statically into .build-dist and stripped
# (packaging/build-dist). VERSION is the VERSION file.
dist: deps
	SWIFT=$(SWIFT) packaging/build-dist

clean:
	rm -rf .build .build-fuzz .build-dist dist
