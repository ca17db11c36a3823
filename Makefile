# kiln - plain GNU make + pkg-config.
#   make             build build/kiln
#   make check       every offline test (under ASan+UBSan by default)
#   make deps        install the Debian packages needed to build and test
#   make install PREFIX=/usr/local

PREFIX ?= /usr/local
BUILD ?= build
CC ?= cc
PKG_CONFIG ?= pkg-config

PKGS := libsolv libsolvext libcurl libcrypto jansson inih libarchive liblzma libzstd zlib libelf sqlite3 libmicrohttpd libvirt libxml-2.0 libguestfs fdisk
TEST_PKGS := cmocka

# Missing libraries fail loudly, naming the pkg-config module.
pkg_check = $(if $(shell command -v $(PKG_CONFIG)),,$(error $(PKG_CONFIG) is not installed: run 'make deps')) \
	$(foreach p,$(1),$(if $(shell $(PKG_CONFIG) --exists $(p) && echo y),,$(error pkg-config module '$(p)' not found: run 'make deps')))

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wno-unused-parameter
CFLAGS ?= -O2 -g
ifeq ($(CI),true)
WARN += -Werror
endif
ifdef SANITIZE
SAN := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
KILN_VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
# builder/ holds the build side by concept, lowest layer first: recipe, apt (sources, fetch, OpenPGP, solver),
# archive (every libarchive call), manifest, image (composing and building), boot (QEMU)
BUILDER_DIRS := recipe apt archive elf manifest image boot assess
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) $(SAN) -MMD -MP -Icommon $(BUILDER_DIRS:%=-Ibuilder/%) -Ilifecycle -Ideploy -Idisk -Iaudit -Iinit -Icli -I$(BUILD)/gen \
	-DKILN_VERSION='"$(KILN_VERSION)"' $(PKG_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SAN) -pthread

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_SRCS := $(wildcard common/*.c $(BUILDER_DIRS:%=builder/%/*.c) lifecycle/*.c deploy/*.c disk/*.c audit/*.c)
CLI_SRCS := $(wildcard cli/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRCS := $(wildcard fuzz/fuzz-*.c)
FUZZ_REPLAY := $(FUZZ_SRCS:fuzz/%.c=$(BUILD)/fuzz/%-replay)
FUZZ_BINS := $(FUZZ_SRCS:fuzz/%.c=$(BUILD)/fuzz/%)

.PHONY: all check check-archive bench bench-resolve bench-build bench-manifest bench-lifecycle bench-serve bench-bombs bench-fleet bench-disk bench-rebake bench-publish bench-closure fuzz deps install clean qemu-check demo

all: $(BUILD)/kiln $(BUILD)/kiln-init $(BUILD)/bench/runstat

# Only builds that link need the libraries; 'make deps' and 'make clean' do
# not, and 'make demo' installs them first (its own sub-makes check them).
ifneq ($(filter-out deps clean demo,$(or $(MAKECMDGOALS),all)),)
$(call pkg_check,$(PKGS))
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS))
endif

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libkiln.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

# kiln audit's default policy, compiled in from the file users read
$(BUILD)/gen/default-policy.inc: audit/default.policy
	@mkdir -p $(dir $@)
	$(Q)sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $< > $@.tmp && mv $@.tmp $@
$(BUILD)/obj/audit/policy.o: $(BUILD)/gen/default-policy.inc

$(BUILD)/kiln: $(CLI_OBJS) $(BUILD)/libkiln.a
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJS) $(BUILD)/libkiln.a $(ALL_LDFLAGS) $(PKG_LIBS)

$(BUILD)/tests/test-%: tests/unit/test-%.c $(BUILD)/libkiln.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(shell $(PKG_CONFIG) --cflags $(TEST_PKGS)) -o $@ $< $(BUILD)/libkiln.a \
		$(ALL_LDFLAGS) $(PKG_LIBS) $(shell $(PKG_CONFIG) --libs $(TEST_PKGS))

# Fuzz targets: replayed over their corpora by 'make check' (any compiler);
# 'make fuzz' builds real libFuzzer binaries with clang.
$(BUILD)/fuzz/%-replay: fuzz/%.c fuzz/replay.c $(BUILD)/libkiln.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< fuzz/replay.c $(BUILD)/libkiln.a $(ALL_LDFLAGS) $(PKG_LIBS)

fuzz:
	$(MAKE) BUILD=build/clang CC=clang SANITIZE=address,undefined,fuzzer-no-link $(FUZZ_BINS:$(BUILD)/%=build/clang/%)

build/clang/fuzz/%: fuzz/%.c build/clang/libkiln.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< build/clang/libkiln.a $(ALL_LDFLAGS) $(PKG_LIBS)

# PID 1 of the images: static, never sanitized, small: linked with musl (75 KB;
# 840 KB with glibc's static libc), so every image carries 0.3 MB less.
INIT_CC ?= musl-gcc
$(BUILD)/kiln-init: init/kiln-init.c
	@mkdir -p $(dir $@)
	@command -v $(INIT_CC) > /dev/null || { echo "$(INIT_CC) is not installed: run 'make deps'"; exit 2; }
	@$(if $(Q),echo "  LINK    $@ (static, $(INIT_CC))")
	$(Q)$(INIT_CC) -std=gnu11 $(WARN) -Os -static -s -o $@ $<

$(BUILD)/bench/publish-store: bench/publish-store.c $(BUILD)/libkiln.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libkiln.a $(ALL_LDFLAGS) $(PKG_LIBS)

$(BUILD)/bench/fleet-sim: bench/fleet-sim.c $(BUILD)/libkiln.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libkiln.a $(ALL_LDFLAGS) $(PKG_LIBS)

$(BUILD)/bench/runstat: bench/runstat.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 $(WARN) -O2 -o $@ $<

# 'make check' builds everything under ASan+UBSan in its own tree.
ifeq ($(SANITIZE)$(filter check,$(MAKECMDGOALS)),check)
check:
	$(MAKE) BUILD=build/san SANITIZE=address,undefined check
else
check: $(BUILD)/kiln $(BUILD)/kiln-init $(UNIT_BINS) $(FUZZ_REPLAY)
	$(Q)KILN=$(abspath $(BUILD)/kiln) BUILD=$(abspath $(BUILD)) tests/run-all $(UNIT_BINS) -- $(FUZZ_REPLAY)
endif

# Needs the network: compares kiln's answers with apt's on the real archive; kiln assess and rebake on it.
check-archive: $(BUILD)/kiln
	$(Q)KILN=$(abspath $(BUILD)/kiln) tests/archive/apt-equal.sh || { rc=$$?; [ $$rc -eq 77 ] && exit 0; exit $$rc; }
	$(Q)KILN=$(abspath $(BUILD)/kiln) tests/archive/assess.sh || { rc=$$?; [ $$rc -eq 77 ] && exit 0; exit $$rc; }

# Needs the network: builds the example recipes and boots them under QEMU.
qemu-check: $(BUILD)/kiln $(BUILD)/kiln-init
	$(Q)KILN=$(abspath $(BUILD)/kiln) qemu-tests/boot-examples.sh || { rc=$$?; [ $$rc -eq 77 ] && exit 0; exit $$rc; }
	$(Q)KILN=$(abspath $(BUILD)/kiln) qemu-tests/deploy.sh || { rc=$$?; [ $$rc -eq 77 ] && exit 0; exit $$rc; }

# The README's first command: install what is missing, bake the redis image, boot it, PING it.
demo:
	$(Q)$(MAKE) deps
	$(Q)$(MAKE) all
	$(Q)KILN=$(abspath $(BUILD)/kiln) qemu-tests/demo.sh

bench: bench-resolve bench-build bench-manifest bench-lifecycle bench-serve bench-bombs bench-fleet bench-disk bench-rebake bench-publish bench-closure

bench-fleet: $(BUILD)/kiln $(BUILD)/kiln-init $(BUILD)/bench/fleet-sim
	$(Q)$(BUILD)/bench/fleet-sim $(FLEET_SIM_N)
	$(Q)KILN=$(abspath $(BUILD)/kiln) bench/fleet

bench-disk: $(BUILD)/kiln $(BUILD)/kiln-init $(BUILD)/bench/runstat
	$(Q)KILN=$(abspath $(BUILD)/kiln) RUNSTAT=$(abspath $(BUILD)/bench/runstat) bench/disk

bench-publish: $(BUILD)/kiln $(BUILD)/kiln-init $(BUILD)/bench/runstat $(BUILD)/bench/publish-store
	$(Q)KILN=$(abspath $(BUILD)/kiln) RUNSTAT=$(abspath $(BUILD)/bench/runstat) STORE_TOOL=$(abspath $(BUILD)/bench/publish-store) bench/publish

bench-rebake: $(BUILD)/kiln $(BUILD)/kiln-init $(BUILD)/bench/runstat
	$(Q)KILN=$(abspath $(BUILD)/kiln) RUNSTAT=$(abspath $(BUILD)/bench/runstat) bench/rebake

bench-closure: $(BUILD)/kiln $(BUILD)/kiln-init $(BUILD)/bench/runstat
	$(Q)KILN=$(abspath $(BUILD)/kiln) RUNSTAT=$(abspath $(BUILD)/bench/runstat) bench/closure

bench-bombs: $(BUILD)/kiln $(BUILD)/bench/runstat
	$(Q)KILN=$(abspath $(BUILD)/kiln) RUNSTAT=$(abspath $(BUILD)/bench/runstat) bench/bombs

bench-lifecycle: $(BUILD)/kiln $(BUILD)/bench/runstat
	$(Q)KILN=$(abspath $(BUILD)/kiln) RUNSTAT=$(abspath $(BUILD)/bench/runstat) bench/lifecycle

bench-serve: $(BUILD)/kiln
	$(Q)KILN=$(abspath $(BUILD)/kiln) bench/serve

bench-resolve: $(BUILD)/kiln $(BUILD)/bench/runstat
	$(Q)KILN=$(abspath $(BUILD)/kiln) RUNSTAT=$(abspath $(BUILD)/bench/runstat) bench/resolve

bench-manifest: $(BUILD)/kiln $(BUILD)/kiln-init $(BUILD)/bench/runstat
	$(Q)KILN=$(abspath $(BUILD)/kiln) RUNSTAT=$(abspath $(BUILD)/bench/runstat) bench/manifest

bench-build: $(BUILD)/kiln $(BUILD)/kiln-init $(BUILD)/bench/runstat
	$(Q)KILN=$(abspath $(BUILD)/kiln) RUNSTAT=$(abspath $(BUILD)/bench/runstat) bench/build

deps:
	$(Q).ci/deps

install: $(BUILD)/kiln $(BUILD)/kiln-init
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/kiln
	install -m 0755 $(BUILD)/kiln $(DESTDIR)$(PREFIX)/bin/kiln
	install -m 0755 $(BUILD)/kiln-init $(DESTDIR)$(PREFIX)/lib/kiln/kiln-init

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
