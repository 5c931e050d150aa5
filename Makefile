# dnswatch: `make demo` and `make test` are the quick start (README.md).
SWIFT ?= swift
.PHONY: deps build release test demo bench clean

deps:
	@scripts/install-deps

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --parallel --num-workers 2

demo: release
	scripts/demo

bench: release
	scripts/bench

clean:
	rm -rf .build
