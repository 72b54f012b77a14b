# Tern — build, run and test. GNU make; see README.md.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

# Go 1.26 lives in /usr/local/go on the project's machines.
ifeq ($(shell command -v go),)
export PATH := /usr/local/go/bin:$(PATH)
endif

GO           ?= go
BIN          ?= bin
TEST_TIMEOUT ?= 30m
FUZZTIME     ?= 60s
# Extra arguments for `make run`, e.g. make run ARGS=-debug
ARGS         ?=

.PHONY: deps deps-gui build run test lint fuzz bench clean

## deps: install every Debian package build and tests need (idempotent)
deps:
	scripts/deps.sh all

## deps-gui: install only what building and running the GUI needs
deps-gui:
	scripts/deps.sh gui

## build: build bin/tern and bin/tern-cli
build:
	$(GO) build -o $(BIN)/ ./cmd/tern ./cmd/tern-cli

## run: build and start the GUI
run: deps-gui build
	exec ./$(BIN)/tern $(ARGS)

## test: every test, under Xvfb with a private D-Bus session and keyring, then go vet
test: deps
	status=0; \
	scripts/testenv.sh $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./... || status=$$?; \
	$(GO) vet ./... || status=$$((status ? status : 1)); \
	exit $$status

## lint: gofmt, go vet, staticcheck
lint:
	@unformatted=$$(gofmt -l .); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

## fuzz: run every fuzz target for FUZZTIME (default 60s), stop at the first crash
fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

## bench: run the benchmarks (numbers are kept in BENCHMARKS.md)
bench: deps
	scripts/testenv.sh $(GO) test -run '^$$' -bench . -benchmem ./...

## clean: remove binaries and rejected golden files
clean:
	rm -rf $(BIN)
	find . -path ./.git -prune -o -type d -path '*/testdata/failed' -prune -exec rm -rf {} +
