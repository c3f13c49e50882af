# danzen: the two commands a newcomer runs are `make demo` and `make test`.
GO            ?= go
BIN           := $(CURDIR)/bin
# restic is pinned and built from the module proxy with its own go.mod, so
# its dependencies stay exactly as restic tested them.
RESTIC_VERSION := v0.19.1
RESTIC        := $(BIN)/restic
# Debian packages the tests use as real peers, and what the image builder
# and its QEMU boot test need (IMAGE_DEBS is defined below).
DEBS          = openssh-server e2fsprogs $(IMAGE_DEBS) fdisk qemu-system-x86 ovmf chromium fonts-noto-cjk
# gcc + linux-libc-dev: the tape ioctl layout test compiles <linux/mtio.h>; tar reads tape archives back.
DEBS         += gcc linux-libc-dev tar
# jq + coreutils: the emergency-restore test runs the documented commands as written.
DEBS         += jq
# netprobe's fake edge: snmpd, dnsmasq and nftables in namespaces (iproute2); nmap for bench/scan.
DEBS         += snmpd dnsmasq-base nftables iproute2 nmap

.PHONY: demo test deps restic vet bench-pull bench-scan

demo: restic
	DANZEN_RESTIC=$(RESTIC) $(GO) run ./cmd/danzen demo

test: deps restic versitygw vet
	DANZEN_RESTIC=$(RESTIC) DANZEN_VERSITYGW=$(VERSITYGW) $(GO) test -count=1 -timeout 40m ./...

vet:
	$(GO) vet ./...

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

.PHONY: image image-deps
# image builds both gokrazy images (and their update payloads) into build/.
image: image-deps
	$(GO) run ./gokrazy/cmd/danzen-image -out build/ danzen-amd64 danzen-rpi

image-deps:
	@missing=""; for p in $(IMAGE_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "make image needs root to install:$$missing" >&2; exit 1; fi; \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
