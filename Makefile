# c10k's front door. CMake is the one build (CMakeLists.txt: flags, programs,
# tests); this file only drives it. `make` builds every program into build/ and
# links each into this directory, so `make && ./srv_epoll 9000` runs the very
# binary the tests test and the bench measures.
#   make [SANITIZE=1|thread]   build (ASan+UBSan in build-asan/, TSan in build-tsan/)
#   make check                 the whole suite, as CI runs it (test/check.sh)
#   make bench | perf | c1m    the measurements (test/tools/), on the build of make
#   make soak [SOAK_S=3600]    an hour of 10,000 held connections per server (not in CI)
#   make install [PREFIX=/usr/local] [DESTDIR=staging], make uninstall
ifeq ($(SANITIZE),)
BUILD ?= build
else ifneq ($(filter 1 ON address,$(SANITIZE)),)
BUILD ?= build-asan
override SANITIZE := ON
else ifeq ($(SANITIZE),thread)
BUILD ?= build-tsan
else
$(error SANITIZE=$(SANITIZE) is not understood: use SANITIZE=1 (ASan and UBSan) or SANITIZE=thread)
endif
PREFIX ?= /usr/local
JOBS ?= 2

.PHONY: all build check clean demo install uninstall bench perf c1m soak
all: build
	@for p in $$(cut -d' ' -f1 $(BUILD)/programs.txt); do ln -sfn $(BUILD)/$$p $$p; done

# A configured build directory keeps its settings unless SANITIZE is given.
build:
	@[ -f $(BUILD)/Makefile ] && [ -z "$(SANITIZE)" ] || \
	    cmake -S . -B $(BUILD) -DSANITIZE=$(or $(SANITIZE),OFF) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# CHECK_BUILDS (plain asan tsan fuzz) and CTEST_ARGS pass through to test/check.sh.
check:
	@CHECK_BUILDS="$(CHECK_BUILDS)" CTEST_ARGS="$(CTEST_ARGS)" sh test/check.sh

clean:
	@for p in $$(cat build*/programs.txt 2>/dev/null | cut -d' ' -f1 | sort -u); do rm -f $$p; done
	rm -rf build build-asan build-tsan build-fuzz

install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

# What the last make install put in place (CMake's install_manifest.txt, which
# leaves DESTDIR out: give the same DESTDIR).
uninstall:
	@[ -f $(BUILD)/install_manifest.txt ] || { echo "make uninstall: nothing installed from $(BUILD)/" >&2; exit 1; }
	sed 's|^|$(DESTDIR)|' $(BUILD)/install_manifest.txt | xargs rm -f
	rm -f $(BUILD)/install_manifest.txt

# Build, then run the experiment's headline once: 10,000 simultaneous requests.
demo: all
	@$(BUILD)/srv_epoll 0 >.demo.out 2>&1 & pid=$$!; \
	. test/lib/core.sh; port=$$(wait_start_line .demo.out $$pid 5); \
	$(BUILD)/cli_flood -p "$$port" -n 10000; rc=$$?; \
	kill $$pid; wait $$pid; cat .demo.out; rm -f .demo.out; exit $$rc

# The experiment: every strategy under four workloads (one-shot, held at a fixed
# rate, closed loop, request sizes), growing connection counts; BENCH_ARGS='-n 3'
# takes medians of three. QUICK=1 runs two levels and two sizes once (about a
# minute); results land in results/.
bench: build
	BIN=$(BUILD) sh test/tools/bench.sh $(if $(filter 1,$(QUICK)),-q) $(BENCH_ARGS)

# srv_epoll against libuv's echo server and sockperf, as ratios of interleaved runs.
perf: build
	BIN=$(BUILD) sh test/tools/perf.sh $(PERF_ARGS)

# One million held connections (srv_epoll -w 64, cli_flood -w 64 from 60 sources);
# about 10 GiB and two minutes, so not part of make check. Writes results/c1m.json.
# C1M_ARGS='-s build/srv_poll' measures another server.
# C1M_ARGS='-e -p': a namespace and a session of its own at nice -20 (root; see c1m.sh).
c1m: build
	BIN=$(BUILD) sh test/tools/c1m.sh $(C1M_ARGS)

# The soak: every event loop and srv_thread holds 10,000 connections at 20,000
# requests/s for SOAK_S seconds (default 3600), latency per 10 s interval and the
# server's RSS, descriptors and kernel memory on the same grid; results/soak.json
# and results/soak.svg, exit 1 if a server lost anything, grew or slowed.
# SOAK_ARGS='-s srv_epoll' soaks one server. About SOAK_S x 5 in all.
soak: build
	BIN=$(BUILD) SOAK_S=$(or $(SOAK_S),3600) sh test/tools/soak.sh $(SOAK_ARGS)
