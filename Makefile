# danzen: the two commands a newcomer runs are `make demo` and `make test`;
# `make check` is the fast loop before every commit.
GO            ?= go
BIN           := $(CURDIR)/bin
# restic is pinned and built from the module proxy with its own go.mod, so
# its dependencies stay exactly as restic tested them.
RESTIC_VERSION := v0.19.1
RESTIC        := $(BIN)/restic
# The linters make check runs, pinned and built from the module proxy into
# bin/ (not in go.mod: they are tools, not dependencies). The version is in
# the file name, so changing it here builds the new one.
GOFMT               = $(shell $(GO) env GOROOT)/bin/gofmt
STATICCHECK_VERSION := v0.8.2
STATICCHECK         := $(BIN)/staticcheck-$(STATICCHECK_VERSION)
ERRCHECK_VERSION    := v1.30.0
ERRCHECK            := $(BIN)/errcheck-$(ERRCHECK_VERSION)

# Debian packages the tests use as real peers, and what the image builder
# and its QEMU boot test need (IMAGE_DEBS is defined below).
DEBS          = openssh-server e2fsprogs $(IMAGE_DEBS) fdisk qemu-system-x86 ovmf chromium fonts-noto-cjk
# gcc + linux-libc-dev: the tape ioctl layout test compiles <linux/mtio.h>; tar reads tape archives back.
DEBS         += gcc linux-libc-dev tar
# jq + coreutils: the emergency-restore test runs the documented commands as written.
DEBS         += jq
# netprobe's fake edge: snmpd, dnsmasq and nftables in namespaces (iproute2); nmap for bench/scan.
DEBS         += snmpd dnsmasq-base nftables iproute2 nmap
# arm64 (the Pi's architecture) on this amd64 machine: qemu-user-static runs
# the arm64 unit tests (test-arm64), the cross gcc and its libc headers lay out
# the kernel's C structures for arm64, qemu-system-arm boots the arm64 image.
DEBS         += qemu-user-static gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm

.PHONY: demo test check deps restic recovery-kit vet bench-pull bench-scan

demo: restic recovery-kit
	DANZEN_RESTIC=$(RESTIC) DANZEN_RECOVERY_KIT=$(RECOVERY_KIT) $(GO) run ./cmd/danzen demo

test: deps restic recovery-kit versitygw vet test-arm64
	DANZEN_RESTIC=$(RESTIC) DANZEN_RECOVERY_KIT=$(RECOVERY_KIT) DANZEN_VERSITYGW=$(VERSITYGW) $(GO) test -count=1 -timeout 40m ./...

# test-arm64 runs the unit tests whose correctness depends on the architecture
# (the SG_IO, mtio and GPIO v2 ioctl structures; the ledger's and config's
# encodings; termios through a pty) as GOARCH=arm64 binaries under qemu-user.
# -exec names the emulator rather than relying on binfmt_misc: that is a
# host-wide kernel setting that containers (this one included) often do not
# mount, and where it is registered nothing shows whether a binary was
# emulated at all. qemu-aarch64-static refuses a non-arm64 binary, so each test
# binary here is arm64; the jq checks below make sure tests ran and that the
# three C-layout tests passed as arm64. Excluded under qemu-user, for reasons
# of the emulator, not of arm64:
#   TestSGIOOnLoopIsNotSCSI, TestDetachReportsFailedSteps: qemu-user 7.2 does
#     not pass SG_IO through (ENOSYS, not the kernel's EINVAL), so they would
#     test qemu; TestSGIOHeaderMatchesC checks the header's arm64 layout.
#   TestIoctlLayoutMatchesC: runs the host gcc's amd64 program, so it would
#     compare arm64 Go with amd64 C; TestMtioMatchesCForGOARCH compiles
#     <linux/mtio.h> for arm64 instead.
# Everything else in these packages passes under qemu-user, root tests with
# loop devices included.
ARM64_PKGS   := ./ledger ./config ./media/disk ./media/tape ./relay ./relay/rtu/...
ARM64_SKIP   := ^(TestSGIOOnLoopIsNotSCSI|TestDetachReportsFailedSteps|TestIoctlLayoutMatchesC)$$
ARM64_LAYOUT := TestSGIOHeaderMatchesC TestMtioMatchesCForGOARCH TestPeriphGPIOv2Layout
ARM64_JSON   := $(CURDIR)/build/test-arm64.json
ARM64_MODULE := github.com/danzen-gw/danzen
.PHONY: test-arm64
test-arm64: deps
	@mkdir -p $(dir $(ARM64_JSON)); echo "== arm64 unit tests under qemu-user: $(ARM64_PKGS)"; \
	GOARCH=arm64 $(GO) test -count=1 -timeout 5m -json -exec qemu-aarch64-static -skip '$(ARM64_SKIP)' $(ARM64_PKGS) >$(ARM64_JSON); \
	rc=$$?; \
	jq -r 'select(.Test == null and (.Action == "pass" or .Action == "fail" or .Action == "skip")) | "\(.Action)\t\(.Package)\t\(.Elapsed // "")"' $(ARM64_JSON); \
	if [ $$rc != 0 ]; then \
		jq -rs '[.[] | select(.Action == "fail" and .Test != null) | .Package + " " + .Test] as $$failed | .[] | select(.Action == "output" or .Action == "build-output") | (.Package + " " + (.Test // "")) as $$k | select(.Test == null or any($$failed[]; . == $$k)) | .Output' $(ARM64_JSON) >&2; \
		echo "arm64 tests failed (everything in $(ARM64_JSON))" >&2; exit 1; \
	fi; \
	for p in ledger config media/disk media/tape relay; do \
		n=$$(jq -r --arg p "$(ARM64_MODULE)/$$p" 'select(.Package == $$p and .Test != null and .Action == "pass") | .Test' $(ARM64_JSON) | wc -l); \
		if [ "$$n" -eq 0 ]; then echo "arm64: no test of ./$$p passed: did they run?" >&2; exit 1; fi; \
	done; \
	for t in $(ARM64_LAYOUT); do \
		jq -se --arg t "$$t" 'any(.[]; (.Test // "" | startswith($$t)) and .Action == "output" and (.Output | test("agree.* for arm64")))' $(ARM64_JSON) >/dev/null || \
			{ echo "arm64: $$t did not report its arm64 check" >&2; exit 1; }; \
	done; \
	echo "arm64: $$(jq -r 'select(.Test != null and .Action == "pass") | .Test' $(ARM64_JSON) | wc -l) tests and subtests passed under qemu-aarch64-static"

vet:
	$(GO) vet ./...

# check is the fast loop before every commit: no root, no peers, under 3
# minutes on a 2-core machine. Formatting, vet, staticcheck, unchecked
# errors, the two house-style tests (inline bilingual literals, msg format
# arguments), then every test under -short -race. Tests that need root,
# sshd, restic, versitygw, QEMU, Chromium, loop devices or network
# namespaces skip themselves under -short; make test runs them all.
check: $(STATICCHECK) $(ERRCHECK)
	@echo "== gofmt"; \
	files=$$(find . -name '*.go' -not -path './.git/*' -not -path './bin/*' -not -path './build/*' -not -path '*/testdata/*'); \
	bad=$$($(GOFMT) -l $$files) || exit 1; \
	if [ -n "$$bad" ]; then echo "not gofmt-formatted (run gofmt -w on them):"; echo "$$bad"; exit 1; fi
	@echo "== go vet"
	@$(GO) vet ./...
	@echo "== staticcheck $(STATICCHECK_VERSION)"
	@$(STATICCHECK) ./...
	@echo "== errcheck $(ERRCHECK_VERSION) (exclusions: .errcheck-excludes)"
	@$(ERRCHECK) -exclude .errcheck-excludes ./...
	@echo "== house style (internal/msg)"
	@$(GO) test -count=1 -run '^(TestInlineBilingualLiterals|TestFormatsAgree)$$' ./internal/msg/
	@echo "== go test -short -race"
	@$(GO) test -short -race -vet=off ./...  # go vet ran above

$(STATICCHECK):
	@mkdir -p $(BIN)/.staticcheck
	GOBIN=$(BIN)/.staticcheck $(GO) install -trimpath honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(BIN)/.staticcheck/staticcheck $@ && rmdir $(BIN)/.staticcheck

$(ERRCHECK):
	@mkdir -p $(BIN)/.errcheck
	GOBIN=$(BIN)/.errcheck $(GO) install -trimpath github.com/kisielk/errcheck@$(ERRCHECK_VERSION)
	mv $(BIN)/.errcheck/errcheck $@ && rmdir $(BIN)/.errcheck

# deps installs the Debian packages the tests need when they are missing.
deps:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "make test needs root to install:$$missing" >&2; exit 1; fi; \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

restic: $(RESTIC)

$(RESTIC):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) CGO_ENABLED=0 $(GO) install -trimpath github.com/restic/restic/cmd/restic@$(RESTIC_VERSION)
	@$(RESTIC) version | grep -q "restic 0.19.1" || { echo "bin/restic is not 0.19.1" >&2; rm -f $(RESTIC); exit 1; }

# recovery-kit: restic for the PCs a hospital restores on (no apt-get offline),
# copied onto every medium with SHA256SUMS (package recoverykit). Cross-built
# from the same pinned module with its own go.mod, read-only in the module
# cache. Names are a contract with the recovery sheet:
# restic_<version>_<os>_<arch>[.exe]. A kit whose SHA256SUMS matches its three
# files is reused (0.5 s); otherwise all three are rebuilt (about 2 minutes).
RECOVERY_KIT         := $(BIN)/recovery-kit
RECOVERY_KIT_TARGETS := linux/amd64 linux/arm64 windows/amd64
recovery-kit:
	@set -e; mkdir -p $(RECOVERY_KIT); cd $(RECOVERY_KIT); \
	if [ -f SHA256SUMS ] && [ $$(wc -l <SHA256SUMS) = $(words $(RECOVERY_KIT_TARGETS)) ] && sha256sum --quiet -c SHA256SUMS; then exit 0; fi; \
	src=$$($(GO) mod download -json github.com/restic/restic@$(RESTIC_VERSION) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p'); \
	[ -d "$$src" ] || { echo "recovery-kit: restic $(RESTIC_VERSION) not in the module cache" >&2; exit 1; }; \
	rm -f SHA256SUMS; \
	for t in $(RECOVERY_KIT_TARGETS); do \
		os=$${t%/*}; arch=$${t#*/}; ext=; [ $$os != windows ] || ext=.exe; \
		out=restic_$(RESTIC_VERSION:v%=%)_$${os}_$${arch}$$ext; \
		echo "recovery-kit: $$out"; \
		(cd $$src && GOOS=$$os GOARCH=$$arch CGO_ENABLED=0 $(GO) build -trimpath -o $(RECOVERY_KIT)/$$out.tmp ./cmd/restic); \
		mv $$out.tmp $$out; \
	done; \
	sha256sum restic_$(RESTIC_VERSION:v%=%)_* >SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS; \
	./restic_$(RESTIC_VERSION:v%=%)_linux_amd64 version | grep -q "restic $(RESTIC_VERSION:v%=%)" || { echo "recovery-kit: not restic $(RESTIC_VERSION)" >&2; exit 1; }

bench-pull: deps
	$(GO) run ./bench/pull

# fuzz runs each fuzz target for FUZZTIME (their seed corpora already run in
# make test). Not part of make test: one core per target, one at a time.
FUZZTIME ?= 1m
FUZZ_TARGETS := ./config:FuzzParse ./backup/restic:FuzzParser ./backup:FuzzRemoteNamesStayInStaging \
	./ledger:FuzzScan ./ledger:FuzzVerifyByteFlip ./netprobe:FuzzParseBanner ./netprobe:FuzzParseUDP
.PHONY: fuzz
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $$t ($(FUZZTIME))"; \
		$(GO) test $${t%%:*} -run '^$$' -fuzz "^$${t##*:}\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=10s -parallel 1; \
	done

# bench-scan: danzen's WAN-edge scan against nmap on the fake edge (bench/README.md).
bench-scan: deps
	$(GO) run ./bench/scan

# bench-ledger: what a ten-year evidence ledger costs danzend's start, page
# and full verification (bench/README.md). About 3 minutes; no root needed.
.PHONY: bench-ledger
bench-ledger:
	$(GO) run ./bench/ledger

# versitygw is the S3 server with Object Lock the cloud medium's tests run
# on 127.0.0.1; building it takes about 7 minutes, so it is kept in bin/.
VERSITYGW_VERSION := v1.8.0
VERSITYGW     := $(BIN)/versitygw
.PHONY: versitygw bench-cloud
versitygw: $(VERSITYGW)

$(VERSITYGW):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) CGO_ENABLED=0 $(GO) install -trimpath github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

bench-cloud: restic versitygw
	DANZEN_RESTIC=$(RESTIC) DANZEN_VERSITYGW=$(VERSITYGW) $(GO) run ./bench/cloud

# Debian packages `make image` needs: mksquashfs, mkfs.vfat + mcopy, mkfs.ext4,
# the amd64 EFI loader, and the CA bundle the image carries.
IMAGE_DEBS    := squashfs-tools dosfstools mtools e2fsprogs systemd-boot-efi ca-certificates

.PHONY: image image-deps update-key bundle
# UPDATE_KEY (DIR/update: DIR/update.pub and DIR/update.key) is the
# vendor's ed25519 update key pair: the public half is
# pinned in every image, the private half signs every update bundle.
UPDATE_KEY    ?= build/keys/update
# image builds both gokrazy images (and their update payloads) into build/,
# pinning $(UPDATE_KEY).pub; without it, it refuses (make update-key, once).
# The recovery kit goes into the image (package recoverykit).
image: image-deps recovery-kit
	@test -f $(UPDATE_KEY).pub || { echo "make image: no update key $(UPDATE_KEY).pub. Run 'make update-key' once (and keep $(UPDATE_KEY).key offline), or set UPDATE_KEY=DIR/update" >&2; exit 1; }
	DANZEN_RECOVERY_KIT=$(RECOVERY_KIT) $(GO) run ./gokrazy/cmd/danzen-image -update-key $(UPDATE_KEY).pub -out build/ danzen-amd64 danzen-rpi

# update-key makes the vendor's update key pair once (it never overwrites).
update-key:
	$(GO) run ./gokrazy/cmd/danzen-image -genkey $(dir $(UPDATE_KEY))

# bundle builds the signed update bundles (build/danzen-*.bundle) that the
# page's firmware update view or `danzen image push` sends to a gateway.
bundle: image-deps recovery-kit
	DANZEN_RECOVERY_KIT=$(RECOVERY_KIT) $(GO) run ./gokrazy/cmd/danzen-image -update-only -bundle -sign-key $(UPDATE_KEY).key -out build/ danzen-amd64 danzen-rpi

image-deps:
	@missing=""; for p in $(IMAGE_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "make image needs root to install:$$missing" >&2; exit 1; fi; \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
