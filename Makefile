# Raqib — one plain Makefile: make, make run, make test, make bench, make clean,
# make install / uninstall (GNU conventions), make image (the container).
#
# `make run` and `make test` install only the Debian packages that are
# missing, build, and start a private redis-server, so a fresh clone needs
# nothing but this file. The pure modules (parsing, email, normalization,
# rules, scoring) link without libevent or hiredis: the unit tests prove it.

BUILD    ?= build
SAN      ?=
PORT     ?= 8080
REDIS_PORT ?= 6390
REDIS_URL ?=

# Debian packages the build and the tests need (checked one by one, only the
# missing ones are installed).
DEB_PKGS := gcc make pkg-config libevent-dev libhiredis-dev libpcre2-dev \
            libjansson-dev libutf8proc-dev libssl-dev libcmocka-dev \
            redis-server perl curl openssl python3
# Hyperscan (prefilter.c) is amd64-only in Debian and optional: without it
# (or with NO_HYPERSCAN=1) every pattern runs through PCRE2 alone.
ifeq ($(shell dpkg --print-architecture 2>/dev/null),amd64)
DEB_PKGS += libhyperscan-dev
endif
# Only `make browser` needs these (npm comes with Debian's nodejs or its own
# package; puppeteer-core goes into a temporary folder at each run).
BROWSER_PKGS := chromium fonts-noto-core nodejs
# Only `make fuzz` / `make fuzz-smoke` need these (libFuzzer ships with clang's runtime).
FUZZ_PKGS := clang-14 libclang-rt-14-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

PURE_PKGS   := libpcre2-8 jansson libutf8proc
NO_HYPERSCAN ?=
ifeq ($(NO_HYPERSCAN),)
ifeq ($(shell pkg-config --exists libhs 2>/dev/null && echo yes),yes)
PURE_PKGS   += libhs
CFLAGS_HS   := -DRAQIB_HAVE_HYPERSCAN
endif
endif
SERVER_PKGS := libevent libevent_pthreads libevent_openssl hiredis libssl libcrypto

CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -MMD -MP $(CFLAGS_HS)
ifneq ($(SAN),)
CFLAGS  += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PURE_PKGS) $(SERVER_PKGS) 2>/dev/null)
PURE_LIBS  = $(shell pkg-config --libs $(PURE_PKGS) 2>/dev/null) -lm -lpthread
SERVER_LIBS = $(shell pkg-config --libs $(SERVER_PKGS) 2>/dev/null) -lpthread

# Modules that talk to the network or the event loop; everything else in
# src/ is pure and may be linked into unit tests and the raqib CLI.
SERVER_MODULES := main server http runtime intake reader store auth queue feed webhook rules_api akismet spool learner \
                  console fleet sentinel cluster authors
ALL_SRCS    := $(wildcard src/*.c)
SERVER_SRCS := $(patsubst %,src/%.c,$(SERVER_MODULES))
PURE_SRCS   := $(filter-out $(SERVER_SRCS),$(ALL_SRCS))
PURE_OBJS   := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(PURE_SRCS))
SERVER_OBJS := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(filter $(SERVER_SRCS),$(ALL_SRCS)))
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

.PHONY: all deps run stop test unit integration redis-script redis-cost aof-p99 compat browser browser-deps sanitize bench verdicts clean check-deps fuzz fuzz-smoke fuzz-deps fuzz-build \
        install install-strip uninstall install-test image image-deps image-podman-deps image-test \
        wordpress-deps wordpress-test print-pure-objs
all: $(BUILD)/raqibd $(BUILD)/raqib

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(BUILD)/obj/cli/%.o: src/cli/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

# The moderator console (console/) is built into raqibd as a generated C
# table (console.h says why): editing a console file rebuilds only this.
CONSOLE_FILES := $(sort $(wildcard console/*.html console/*.css console/*.js console/*.svg))
$(BUILD)/gen/console_assets.c: console/embed.sh $(CONSOLE_FILES)
	@mkdir -p $(dir $@)
	sh console/embed.sh $(CONSOLE_FILES) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/console_assets.o: $(BUILD)/gen/console_assets.c
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/raqibd: $(SERVER_OBJS) $(PURE_OBJS) $(BUILD)/obj/console_assets.o
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(SERVER_LIBS) $(PURE_LIBS)

# The CLI links the pure modules, and hiredis for `rules train --redis`.
$(BUILD)/raqib: $(BUILD)/obj/cli/raqib.o $(BUILD)/obj/cli/decided.o $(BUILD)/obj/cli/replay.o $(PURE_OBJS)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(shell pkg-config --libs hiredis 2>/dev/null) $(PURE_LIBS)

# Unit tests link the pure modules only: no -levent, no -lhiredis.
$(BUILD)/tests/test_%: tests/unit/test_%.c $(PURE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(PURE_LIBS) -lcmocka

# Install the Debian packages of $(1) that are missing, and only those.
define install_missing
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing missing packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call install_missing,$(DEB_PKGS))

# Start a private redis-server under ./var (unless REDIS_URL names one; the
# settings Raqib ships, docker/redis.conf: AOF, no RDB forks) and raqibd in
# the foreground on localhost with rules/.
run: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p var
	@if [ -z "$(REDIS_URL)" ]; then \
	  if ! redis-cli -p $(REDIS_PORT) ping >/dev/null 2>&1; then \
	    redis-server docker/redis.conf --port $(REDIS_PORT) --bind 127.0.0.1 --dir $(CURDIR)/var --daemonize yes \
	      --pidfile $(CURDIR)/var/redis.pid --logfile $(CURDIR)/var/redis.log && sleep 0.3; \
	  fi; \
	  echo "redis-server: 127.0.0.1:$(REDIS_PORT), data in ./var (make stop stops it)"; \
	fi
	@echo "raqibd: http://127.0.0.1:$(PORT)/   (Ctrl-C stops it)"
	@echo "moderator console: http://127.0.0.1:$(PORT)/console/"
	@echo "try:"
	@echo "  curl -s -X POST http://127.0.0.1:$(PORT)/v1/comments -H 'Content-Type: application/json' \\"
	@echo "       -d '{\"post_id\":1,\"author\":\"Layla\",\"email\":\"layla@example.com\",\"content\":\"مقال رائع، شكرا\"}'"
	@[ -s var/author.key ] || { umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > var/author.key; }
	@exec $(BUILD)/raqibd --listen 127.0.0.1:$(PORT) --rules rules \
	  --redis "$(if $(REDIS_URL),$(REDIS_URL),redis://127.0.0.1:$(REDIS_PORT)/0)" \
	  --author_key "$$(cat var/author.key)"

stop:
	@[ -f var/redis.pid ] && kill "$$(cat var/redis.pid)" 2>/dev/null && echo "redis-server stopped" || true

unit: $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do $$t || fail=1; done; exit $$fail

integration: all
	RAQIBD=$(abspath $(BUILD))/raqibd RAQIB=$(abspath $(BUILD))/raqib RULES=$(CURDIR)/rules \
	  RAQIB_WITH_HYPERSCAN=$(if $(CFLAGS_HS),1,0) \
	  prove -I tests/integration/lib tests/integration/

# Real third-party clients against raqibd (tests/compat/: the npm Akismet
# libraries, installed into a temporary folder; skipped without node/npm).
compat: all
	RAQIBD=$(abspath $(BUILD))/raqibd RAQIB=$(abspath $(BUILD))/raqib RULES=$(CURDIR)/rules \
	  RAQIB_WITH_HYPERSCAN=$(if $(CFLAGS_HS),1,0) \
	  prove -I tests/integration/lib tests/compat/

# The WordPress plugin (integrations/wordpress/) against Debian's WordPress
# and its unchanged Akismet plugin: tests/wordpress/ starts a throwaway
# MariaDB and `php -S` under a temporary folder (nothing written elsewhere).
# 11-30 s on 2 busy cores; run once by `make test`, not again under ASan.
WP_PKGS := wordpress php-cli php-mysql mariadb-server mariadb-client gettext

wordpress-deps:
	$(call install_missing,$(WP_PKGS))

wordpress-test: wordpress-deps all
	RAQIBD=$(abspath $(BUILD))/raqibd RAQIB=$(abspath $(BUILD))/raqib RULES=$(CURDIR)/rules \
	  prove -I tests/integration/lib tests/wordpress/

browser-deps:
	$(call install_missing,$(BROWSER_PKGS))
	@command -v npm >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends npm; }

# The moderator console in headless Chromium (tests/browser/), once, with
# the plain build; the Arabic-UI queue screenshot goes to $(BUILD)/browser/.
browser: browser-deps all
	RAQIBD=$(abspath $(BUILD))/raqibd RAQIB=$(abspath $(BUILD))/raqib RULES=$(CURDIR)/rules \
	  BROWSER_OUT=$(abspath $(BUILD))/browser prove -I tests/integration/lib tests/browser/

# The submit script (src/store.c) against the one it replaced, on a private
# redis-server: the same answers and keys (tests/redis/; Redis only, so once,
# not again under ASan; ~2 s). `make redis-cost` measures its cost.
redis-script: deps
	prove tests/redis/

# Redis's µs per submission script call, before and after, redis-server on
# a core of its own (tests/bench/redis-cost.sh, ~1 minute; also in make bench).
redis-cost: deps
	tests/bench/redis-cost.sh

# /v1/comments p99 at half of peak during an AOF rewrite, Redis's defaults
# against docker/redis.conf (tests/bench/aof-p99.sh, ~3-4 minutes).
aof-p99: deps all
	tests/bench/aof-p99.sh $(BUILD)

# The whole suite, then again under AddressSanitizer + UBSan in build/asan;
# the install layout and the container image once each.
test: deps
	@$(MAKE) --no-print-directory all unit integration redis-script compat browser wordpress-test
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 all unit integration
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory install-test
	@$(MAKE) --no-print-directory image-test

# --- make install / uninstall: GNU conventions (PREFIX or prefix, DESTDIR,
# bindir, sysconfdir, docdir, systemdunitdir). The rules go to
# $(sysconfdir)/raqib/rules, the example config to $(sysconfdir)/raqib (0600;
# an existing raqibd.conf is never overwritten), the systemd unit with this
# install's paths filled in. docs/deployment.md.
PREFIX      ?= /usr/local
prefix      ?= $(PREFIX)
exec_prefix ?= $(prefix)
bindir      ?= $(exec_prefix)/bin
datarootdir ?= $(prefix)/share
docdir      ?= $(datarootdir)/doc/raqib
sysconfdir  ?= $(if $(filter /usr,$(prefix)),/etc,$(prefix)/etc)
systemdunitdir ?= $(prefix)/lib/systemd/system
INSTALL     ?= install
INSTALL_PROGRAM ?= $(INSTALL) -m 755
RAQIB_ETC   := $(DESTDIR)$(sysconfdir)/raqib
SUBST_PATHS := sed -e 's|@BINDIR@|$(bindir)|g' -e 's|@SYSCONFDIR@|$(sysconfdir)|g' -e 's|@DOCDIR@|$(docdir)|g'

install: all
	$(INSTALL) -d $(DESTDIR)$(bindir) $(RAQIB_ETC)/rules $(DESTDIR)$(systemdunitdir) $(DESTDIR)$(docdir)
	$(INSTALL_PROGRAM) $(BUILD)/raqibd $(BUILD)/raqib $(DESTDIR)$(bindir)/
	cd rules && find . -type d -exec $(INSTALL) -d -m 755 '$(RAQIB_ETC)/rules/{}' ';' \
	  && find . -type f -exec $(INSTALL) -m 644 '{}' '$(RAQIB_ETC)/rules/{}' ';'
	$(SUBST_PATHS) dist/raqibd.conf.example > $(BUILD)/raqibd.conf.example
	$(INSTALL) -m 600 $(BUILD)/raqibd.conf.example $(RAQIB_ETC)/raqibd.conf.example
	[ -e $(RAQIB_ETC)/raqibd.conf ] || $(INSTALL) -m 600 $(BUILD)/raqibd.conf.example $(RAQIB_ETC)/raqibd.conf
	$(SUBST_PATHS) dist/raqibd.service.in > $(BUILD)/raqibd.service
	$(INSTALL) -m 644 $(BUILD)/raqibd.service $(DESTDIR)$(systemdunitdir)/raqibd.service
	$(INSTALL) -m 644 README.md docs/*.md $(DESTDIR)$(docdir)/

install-strip:
	@$(MAKE) --no-print-directory INSTALL_PROGRAM='$(INSTALL) -m 755 -s' install

# Removes what install laid out; a raqibd.conf that differs from the example
# (the operator's) and rule files that are not ours stay.
uninstall:
	rm -f $(DESTDIR)$(bindir)/raqibd $(DESTDIR)$(bindir)/raqib $(DESTDIR)$(systemdunitdir)/raqibd.service
	cd rules && find . -type f -exec rm -f '$(RAQIB_ETC)/rules/{}' ';'
	if cmp -s $(RAQIB_ETC)/raqibd.conf $(RAQIB_ETC)/raqibd.conf.example; then rm -f $(RAQIB_ETC)/raqibd.conf; \
	elif [ -e $(RAQIB_ETC)/raqibd.conf ]; then echo "kept $(RAQIB_ETC)/raqibd.conf (changed since install)"; fi
	rm -f $(RAQIB_ETC)/raqibd.conf.example
	cd docs && for f in *.md; do rm -f "$(DESTDIR)$(docdir)/$$f"; done; rm -f $(DESTDIR)$(docdir)/README.md
	-[ -d $(RAQIB_ETC) ] && find $(RAQIB_ETC) -depth -type d -empty -delete
	-rmdir $(DESTDIR)$(docdir) 2>/dev/null

# Installs into a temporary DESTDIR, checks the tree and the unit
# (systemd-analyze verify where it exists), uninstalls.
install-test: all
	BUILD=$(BUILD) prove tests/install/

# --- The container image: docker when an engine answers, else podman (its
# packages installed when missing), base image from debootstrap cached in
# ./var/image (docker/image.sh, docs/deployment.md).
IMAGE_PKGS := podman buildah debootstrap runc

image-deps:
	@if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then :; \
	else $(MAKE) --no-print-directory image-podman-deps; fi

image-podman-deps:
	$(call install_missing,$(IMAGE_PKGS))

image: image-deps
	docker/image.sh

# Builds the image, runs it beside a private redis-server, submits and reads
# back a comment, stops it with SIGTERM and wants exit 0 (tests/image/).
image-test: image
	prove -I tests/integration/lib tests/image/

# libFuzzer targets (tests/fuzz/fuzz_*.c) over the pure modules, built with
# clang and ASan + UBSan in build/fuzz. Seeds in tests/fuzz/corpus/TARGET/;
# what a run finds new goes to build/fuzz/corpus/TARGET/, crashes to
# build/fuzz/artifacts/. `make fuzz FUZZ_SECONDS=600` runs each that long;
# `make fuzz-smoke` (part of `make test`) runs each for FUZZ_SMOKE_SECONDS.
FUZZ_CC      ?= clang-14
FUZZ_BUILD   ?= build/fuzz
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_TARGETS := json form email normalize rules learn
FUZZ_FLAGS   := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -std=c11 -D_GNU_SOURCE -Iinclude $(CFLAGS_HS)
FUZZ_OBJS    := $(patsubst src/%.c,$(FUZZ_BUILD)/obj/%.o,$(PURE_SRCS))
FUZZ_BINS    := $(patsubst %,$(FUZZ_BUILD)/fuzz_%,$(FUZZ_TARGETS))
# Built by a pattern rule only: keep them between runs.
.SECONDARY: $(FUZZ_OBJS)

fuzz-deps:
	$(call install_missing,$(FUZZ_PKGS))

$(FUZZ_BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(PKG_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $(PKG_CFLAGS) -o $@ $< $(FUZZ_OBJS) $(PURE_LIBS)

fuzz-build: fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

# Run every target for $(1) seconds from the seeds plus what earlier runs found.
define run_fuzzers
	@mkdir -p $(FUZZ_BUILD)/artifacts
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
	  echo "fuzz_$$t: $(1) s"; \
	  $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(1) -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t- \
	    $(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t 2>$(FUZZ_BUILD)/fuzz_$$t.log \
	    || { tail -60 $(FUZZ_BUILD)/fuzz_$$t.log; echo "fuzz_$$t FAILED: see $(FUZZ_BUILD)/artifacts/"; exit 1; }; \
	  grep -E '^stat::(number_of_executed_units|new_units_added)' $(FUZZ_BUILD)/fuzz_$$t.log | tr '\n' ' '; echo; \
	done
endef

fuzz: fuzz-build
	$(call run_fuzzers,$(FUZZ_SECONDS))

fuzz-smoke: fuzz-build
	$(call run_fuzzers,$(FUZZ_SMOKE_SECONDS))

bench: deps all
	tests/bench/run.sh $(BUILD)
	tests/bench/redis-cost.sh

# Every shipped rule's verdict over ../shared/data: Hyperscan against PCRE2
# alone, and with VERDICTS_BASE=REF (e.g. main) against that commit's engine.
# Outside `make test`: the data is not part of the product. ~1-2 minutes.
verdicts: all
	tests/rules/verdicts.sh $(BUILD)

# The pure modules' objects, for tests/bench/run.sh's engine_bench link.
print-pure-objs:
	@echo $(PURE_OBJS)

clean:
	rm -rf build

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/obj/cli/*.d $(BUILD)/tests/*.d)
