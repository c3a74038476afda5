# c10k: `make` builds every program into this directory; `make check` runs the tests.
# The program list lives here; CMakeLists.txt reads it, and both compile
# common/*.cpp with each program, so the two builds cannot drift.
PROGS := srv_epoll srv_select srv_poll srv_fork srv_uring srv_thread cli_flood
# A program of several files lists them as NAME_SRCS (CMakeLists.txt reads these too);
# any other is the one file srv/NAME.cpp or cli/NAME.cpp.
cli_flood_SRCS := cli/cli_flood.cpp cli/flood_loop.cpp cli/flood_held.cpp cli/flood_blocking.cpp cli/flood_report.cpp cli/flood_parse.cpp cli/flood_interval.cpp cli/flood_proto.cpp

CXX ?= g++
CXXFLAGS ?= -O2 -g
CXXFLAGS += -std=c++17 -Wall -Wextra -Werror -fno-exceptions -fno-rtti -pthread
LDFLAGS += -pthread
ifneq ($(SANITIZE),1)
CXXFLAGS += -D_FORTIFY_SOURCE=2
endif
ifeq ($(SANITIZE),1)
CXXFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

COMMON_SRCS := $(wildcard common/*.cpp)
COMMON_HDRS := $(wildcard common/*.h)
src_of = $(or $($(1)_SRCS),$(firstword $(wildcard srv/$(1).cpp cli/$(1).cpp)))

.PHONY: all bench c1m check clean demo install perf uninstall
all: $(PROGS)

define prog_rule
$(1): $(call src_of,$(1)) $(COMMON_SRCS) $(COMMON_HDRS) $(wildcard cli/*.h)
	$$(CXX) $$(CXXFLAGS) -o $$@ $(call src_of,$(1)) $(COMMON_SRCS) $$(LDFLAGS)
endef
$(foreach p,$(PROGS),$(eval $(call prog_rule,$(p))))

# The whole test suite as CI runs it: first test/deps.sh installs the Debian
# packages the tests use that are missing (as root), then the normal build in
# build/ (with _FORTIFY_SOURCE), then ASan+UBSan in build-asan/, then srv_thread's
# tests under ThreadSanitizer in build-tsan/ (the one server whose threads share
# memory; only what those tests run is built), then build-fuzz/ (clang++,
# test/fuzz/ alone): each libFuzzer target replays its regression inputs and
# fuzzes for 30 s, two at a time. SANITIZE=0, 1 or thread runs only that build;
# CHECK_BUILDS=fuzz only the fuzzers. Two tests at a time: most of the suite's time
# is tests waiting out timeouts; tests that load the machine or time a server take
# a machine-wide lock (test/lib.sh, load_lock), so those still run one at a time.
# A failed test gets one retry (not a fuzzer: a crash found is a bug); each build
# ends with the list of tests retried and skipped.
CHECK_BUILDS ?= $(if $(SANITIZE),$(if $(filter 1,$(SANITIZE)),asan,$(if $(filter thread,$(SANITIZE)),tsan,plain)),plain asan tsan fuzz)
# Left out under ThreadSanitizer: timing tests of thousands of slow TSan threads
# whose shared paths (counters, accept, -t) the other srv_thread tests run too.
TSAN_SKIP := srv_thread\.(idle|rude|steady_flood)$$
check:
	@sh test/deps.sh || echo "make check: tests that need the missing tools will skip (fail under CI=true)"
	@set -e; for b in $(CHECK_BUILDS); do \
	    if [ $$b = fuzz ]; then \
	        echo "== make check: fuzz build, in build-fuzz/"; \
	        if ! command -v clang++ >/dev/null; then \
	            [ "$${CI:-}" = true ] && { echo "make check: clang++ is missing under CI: test/deps.sh installs clang"; exit 1; }; \
	            echo "== fuzz build: skipped: clang++ is not installed (apt-get install clang libclang-rt-dev)"; continue; \
	        fi; \
	        cmake -S test/fuzz -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ >/dev/null; \
	        cmake --build build-fuzz -j2; \
	        start=$$(date +%s); rc=0; \
	        (cd build-fuzz && ctest -L fuzz -j2 --output-on-failure --output-log ctest.log $(CTEST_ARGS)) || rc=$$?; \
	        echo "== fuzz build: $$(( $$(date +%s) - start )) s of fuzzing"; \
	        sh test/ctest_summary.sh build-fuzz/ctest.log fuzz; \
	        [ $$rc = 0 ] || exit $$rc; continue; \
	    fi; \
	    targets= only=; \
	    case $$b in \
	    asan) dir=build-asan san=ON ;; \
	    tsan) dir=build-tsan san=thread only="-L srv_thread -E $(TSAN_SKIP)" \
	          targets="--target srv_thread cli_flood peer badsrv" ;; \
	    *) dir=build san=OFF ;; \
	    esac; \
	    echo "== make check: $$b build, in $$dir/"; \
	    cmake -S . -B $$dir -DSANITIZE=$$san >/dev/null; \
	    cmake --build $$dir -j2 $$targets; \
	    rc=0; (cd $$dir && ctest -j2 --output-on-failure --timeout 300 --repeat until-pass:2 \
	        --output-log ctest.log $$only $(CTEST_ARGS)) || rc=$$?; \
	    sh test/ctest_summary.sh $$dir/ctest.log $$b; \
	    [ $$rc = 0 ] || exit $$rc; \
	done

clean:
	rm -f $(PROGS)
	rm -rf build build-asan build-tsan build-fuzz

# make install [PREFIX=/usr/local] [DESTDIR=staging]: programs and their pages,
# so that `man srv_epoll` works; every program in PROGS must have man/PROG.1.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(PROGS) $(DESTDIR)$(BINDIR)/
	install -m 644 $(PROGS:%=man/%.1) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/c10k.7 $(DESTDIR)$(MANDIR)/man7/

uninstall:
	rm -f $(PROGS:%=$(DESTDIR)$(BINDIR)/%) $(PROGS:%=$(DESTDIR)$(MANDIR)/man1/%.1) \
	      $(DESTDIR)$(MANDIR)/man7/c10k.7

# Build, then run the experiment's headline once: 10,000 simultaneous requests.
demo: all
	@./srv_epoll 0 >.demo.out 2>&1 & pid=$$!; \
	for i in 1 2 3 4 5 6 7 8 9 10; do grep -q listening .demo.out && break; sleep 0.1; done; \
	port=$$(sed -n 's/.*listening on .*:\([0-9]*\),.*/\1/p' .demo.out); \
	./cli_flood -p "$$port" -n 10000; rc=$$?; \
	kill $$pid; wait $$pid; cat .demo.out; rm -f .demo.out; exit $$rc

# The experiment: every strategy under four workloads (one-shot, held at a fixed
# rate, closed loop, request sizes), growing connection counts; BENCH_ARGS='-n 3'
# takes medians of three. QUICK=1 runs two levels and two sizes once (about a
# minute); results land in results/.
bench: all
	sh test/bench.sh $(if $(filter 1,$(QUICK)),-q) $(BENCH_ARGS)

# srv_epoll against libuv's echo server and sockperf, as ratios of interleaved runs.
perf: all
	sh test/perf.sh $(PERF_ARGS)

# One million held connections (srv_epoll -w 64, cli_flood -w 64 from 60 sources);
# about 10 GiB and two minutes, so not part of make check. Writes results/c1m.json.
# C1M_ARGS='-s ./srv_poll' measures another server.
c1m: all
	sh test/c1m.sh $(C1M_ARGS)
