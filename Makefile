# godist — common tasks. `make test` is what CI runs (see .ci/run).
GO ?= go
PKGS := ./...

.PHONY: build test test-short selftest bench fuzz lint

build:
	$(GO) build -o bin/godist ./cmd/godist

# The whole suite with the race detector, slow end-to-end cases included,
# then godist running godist's own suite.
test:
	$(GO) test -race -timeout 9m $(PKGS)
	$(MAKE) selftest

# godist runs its own test suite, distributed.
selftest:
	$(GO) run ./cmd/godist $(PKGS)

# The quick loop: slow end-to-end cases skipped.
test-short:
	$(GO) test -short -timeout 5m $(PKGS)

# Go benchmarks (channel, gateway, scheduler, collector).
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1s $(PKGS)

FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzFrameDecoder -fuzztime $(FUZZTIME) ./channel

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^testdata/')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
