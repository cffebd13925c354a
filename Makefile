# godist — common tasks. `make test` is what CI runs (see .ci/run).
GO ?= go
PKGS := ./...

.PHONY: build test test-short selftest bench bench-corpus fuzz lint

build:
	$(GO) build -o bin/godist ./cmd/godist

# The whole suite with the race detector, slow end-to-end cases included,
# then godist running godist's own suite.
test:
	$(GO) test -race -timeout 14m $(PKGS)
	$(MAKE) selftest

# godist runs its own test suite, distributed. -timeout budgets a package's
# test binary, as under go test: cmd/godist's end-to-end tests take minutes.
selftest:
	$(GO) run ./cmd/godist -timeout 20m $(PKGS)

# The quick loop: slow end-to-end cases skipped.
test-short:
	$(GO) test -short -timeout 5m $(PKGS)

# Go micro-benchmarks (channel, gateway, scheduler, collector), then godist
# against go test on the fixture suites, interleaved; the table goes to
# stdout and bench/results.md. See bench/README.md.
BENCHTIME ?= 200ms
BENCHREPS ?= 3
bench:
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) $(PKGS)
	$(GO) run ./bench/harness -reps $(BENCHREPS) -suites slow,many,basic,subtests -out bench/results.md

# The real public suites (hashicorp/raft, k8s.io/apimachinery, gofiber/fiber)
# from the module cache: about 25 minutes a repetition on 2 CPUs.
CORPUSREPS ?= 1
bench-corpus:
	$(GO) run ./bench/harness -reps $(CORPUSREPS) -suites raft,apimachinery,fiber -out bench/results-corpus.md

FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzFrameDecoder -fuzztime $(FUZZTIME) ./channel

# lint: gofmt, vet, and the controller cross-built and vetted for macOS and
# Windows (Linux-only pieces sit in _linux.go files).
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^testdata/')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	GOOS=darwin $(GO) build ./... && GOOS=darwin $(GO) vet $(PKGS)
	GOOS=windows $(GO) build ./... && GOOS=windows $(GO) vet $(PKGS)
