# winnow — make targets. `make test` is what CI (.ci/run) and the README use.
GO        ?= go
BIN       := bin/winnow
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
# Packages with goroutines: run under the race detector.
RACE_PKGS := ./internal/detect/... ./internal/pipeline/... ./internal/source/... ./internal/app/... ./cmd/... ./internal/sink/... ./internal/serve/...
FUZZTIME  ?= 10s
STATICCHECK ?= $(shell command -v staticcheck 2>/dev/null || echo $(shell $(GO) env GOPATH)/bin/staticcheck)

.PHONY: all build install test race lint fmt vet staticcheck tidy bench bench-generated bench-go fuzz-smoke demo clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/winnow

## install: put winnow in $(GOBIN) (default $(GOPATH)/bin, i.e. ~/go/bin), like `go install ./cmd/winnow`.
install:
	CGO_ENABLED=0 $(GO) install -trimpath -ldflags '$(LDFLAGS)' ./cmd/winnow

## test: unit, golden, scenario and real-data tests, then the race detector on concurrent packages.
test:
	$(GO) test -shuffle=on -count=1 ./...
	$(GO) test -race -shuffle=on -count=1 $(RACE_PKGS)

race:
	$(GO) test -race -shuffle=on -count=1 ./...

lint: fmt vet staticcheck tidy

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(STATICCHECK) ./...

## tidy: fail when go.mod/go.sum are not what `go mod tidy` would write.
tidy:
	@out=$$($(GO) mod tidy -diff 2>&1); if [ -n "$$out" ]; then echo "go.mod/go.sum not tidy (run go mod tidy):"; echo "$$out"; exit 1; fi

## bench: the performance goals on ../shared/bench (1M-line auth and access logs): winnow against wc/grep/awk/lnav/fail2ban, medians of 3.
bench:
	scripts/bench.sh

## bench-generated: the older per-family scripts on generated inputs (auth, web, dns, series, flood).
bench-generated:
	scripts/bench-generated.sh

## bench-go: every Go benchmark once.
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## fuzz-smoke: every Fuzz target for FUZZTIME each.
fuzz-smoke:
	scripts/fuzz-smoke.sh $(FUZZTIME)

demo: build
	$(BIN) demo

clean:
	rm -rf bin bench/out
