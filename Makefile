# c10k: `make` builds every program into this directory; `make check` runs the tests.
# The program list lives here; CMakeLists.txt reads it, and both compile
# common/*.cpp with each program, so the two builds cannot drift.
PROGS := srv_epoll srv_select srv_poll srv_fork cli_flood

CXX ?= g++
CXXFLAGS ?= -O2 -g
CXXFLAGS += -std=c++17 -Wall -Wextra -Werror -fno-exceptions -fno-rtti
ifneq ($(SANITIZE),1)
CXXFLAGS += -D_FORTIFY_SOURCE=2
endif
ifeq ($(SANITIZE),1)
CXXFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

COMMON_SRCS := $(wildcard common/*.cpp)
COMMON_HDRS := $(wildcard common/*.h)
src_of = $(firstword $(wildcard srv/$(1).cpp cli/$(1).cpp))

.PHONY: all check clean demo
all: $(PROGS)

define prog_rule
$(1): $(call src_of,$(1)) $(COMMON_SRCS) $(COMMON_HDRS)
	$$(CXX) $$(CXXFLAGS) -o $$@ $(call src_of,$(1)) $(COMMON_SRCS) $$(LDFLAGS)
endef
$(foreach p,$(PROGS),$(eval $(call prog_rule,$(p))))

# The whole test suite, configured in build/ (SANITIZE=1 uses build-asan/).
BUILD_DIR := $(if $(filter 1,$(SANITIZE)),build-asan,build)
check:
	cmake -S . -B $(BUILD_DIR) -DSANITIZE=$(if $(filter 1,$(SANITIZE)),ON,OFF) >/dev/null
	cmake --build $(BUILD_DIR) -j2
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 300 $(CTEST_ARGS)

clean:
	rm -f $(PROGS)
	rm -rf build build-asan

# Build, then run the experiment's headline once: 10,000 simultaneous requests.
demo: all
	@./srv_epoll 0 >.demo.out 2>&1 & pid=$$!; \
	for i in 1 2 3 4 5 6 7 8 9 10; do grep -q listening .demo.out && break; sleep 0.1; done; \
	port=$$(sed -n 's/.*listening on .*:\([0-9]*\),.*/\1/p' .demo.out); \
	./cli_flood -p "$$port" -n 10000; rc=$$?; \
	kill $$pid; wait $$pid; cat .demo.out; rm -f .demo.out; exit $$rc
