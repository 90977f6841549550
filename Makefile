# smbvfs — make targets. `make help` lists them.
GO       ?= go
FUZZTIME ?= 10s
# time to minimise a new interesting input (Go's default of 60 s stalls short runs)
FUZZMINTIME ?= 5s
# Go before 1.27 can fail a clean -fuzztime run with a bare "context deadline exceeded" when the
# deadline races a worker's shutdown (golang/go#75804, fixed in 1.27.0). Fuzzing therefore runs
# on a 1.27 toolchain, fetched once by the go command from the module proxy; the build and the
# tests stay on the go.mod toolchain.
FUZZGO ?= GOTOOLCHAIN=go1.27.4 $(GO)
# packages holding fuzz targets (native go test -fuzz): every folder with a func Fuzz... test
FUZZPKGS ?= $(shell grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u)
GENERATED_DIRS := protocol backends fuzz server tools pcaps

# captures the replay reads: ours, the public corpus beside the repository, and $SMBVFS_PCAPS
PCAP_DIRS = pcaps ../shared/pcaps $(subst :, ,$(SMBVFS_PCAPS))
PCAP_FILES = $(wildcard $(foreach d,$(PCAP_DIRS),$(d)/*.pcap $(d)/*.pcapng $(d)/*.cap))

.PHONY: help run generate check-generate test test-race fuzz bench bench-interop fmt vet replay pcaps

help:
	@echo "make run             smbserve on its embedded demo default"
	@echo "make generate        regenerate protocol/ from spec/ (and mocks)"
	@echo "make check-generate  fail when committed generated code is stale"
	@echo "make test            the whole test suite (what CI runs)"
	@echo "make fuzz            run every fuzz target for FUZZTIME each (default $(FUZZTIME))"
	@echo "make bench           codec benchmarks (ns/op, B/op, allocs/op)"
	@echo "make bench-interop   smbclient transfers against smbserve and a reference Samba, side by side"
	@echo "make replay          round trip of every capture in pcaps/, ../shared/pcaps and \$$SMBVFS_PCAPS, and replay against smbserve"
	@echo "make pcaps           (root) record our own captures with real clients"

run:
	$(GO) run ./tools/smbserve

generate:
	$(GO) run ./gen/cmd/smbgen
	$(GO) generate ./...

# Delete every generated file (by its "Code generated ... DO NOT EDIT." line), regenerate, and
# fail on any difference from what is committed, including new or orphaned files.
check-generate:
	@grep -rlE --include='*.go' '^// Code generated .* DO NOT EDIT\.$$' $(GENERATED_DIRS) 2>/dev/null | xargs -r rm -f
	@$(MAKE) -s generate >/dev/null
	@if ! git diff --quiet -- $(GENERATED_DIRS) || [ -n "$$(git status --porcelain --untracked-files=all -- $(GENERATED_DIRS))" ]; then \
		git status --short -- $(GENERATED_DIRS); \
		echo "check-generate: generated code is stale: run 'make generate' and commit the result"; exit 1; \
	fi
	@echo "check-generate: generated code is up to date"

test:
	$(GO) test -race -timeout 20m ./...

fuzz:
	@set -e; for pkg in $(FUZZPKGS); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$t ($(FUZZTIME))"; \
			$(FUZZGO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMINTIME) $$pkg; \
		done; \
	done

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./protocol/...

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	$(GO) vet ./...

# round trip of every capture (decrypting with pcaps/keys), then replay of our smbclient and
# impacket captures against a fresh in-process smbserve
replay:
	$(GO) run ./tools/smbreplay roundtrip --keys pcaps/keys --expect pcaps/expected.tsv $(PCAP_FILES)
	$(GO) test -count=1 -run 'TestReplayCaptures|TestReplayCatchesARegression|TestDecryptedRoundTrip' ./pcaps/replay ./pcaps/roundtrip

# as root: record pcaps/*.pcapng and pcaps/keys with real clients against a reference Samba and
# smbserve (see pcaps/manifest.yaml)
pcaps:
	pcaps/record.sh

# Not a CI gate: ~5 minutes; needs samba, smbclient, samba-testsuite (see ../shared/harness).
bench-interop:
	tools/benchinterop/benchinterop.sh
