# A thin wrapper over CMake with the entry points the README shows:
#   make demo        install what is missing, build (Release), run experiments/quickstart.lua
#   make check       install what is missing, build, run the whole test suite through ctest
#   make bench       build, then run the benchmarks (the training step against its GEMM roofline,
#                    the VIB step, evaluation, memory and sweep throughput, the information
#                    estimators, the convolutions of ResNet-20 against theirs, an attack step and
#                    custom terms against the training step); each prints its kernel set and thread
#                    count, and the last line prints their headline figures as one table
#   make install     build, then install vibrun, its man page vibrun(1) and its bash completion
#                    under $(DESTDIR)$(PREFIX)
#   make uninstall   remove what the last `make install` from $(BUILD) installed, under $(DESTDIR)
#   make fuzz        build the libFuzzer targets with clang (ASan, UBSan) in build-fuzz and run each
#                    for FUZZ_SECONDS (default 60) on its seed corpus (tests/fuzz/)
# Variables: BUILD (build directory), BUILD_TYPE (Release, Debug), CMAKE_FLAGS (extra -D...),
# PREFIX (default /usr/local), DESTDIR (a staging root, empty by default).

BUILD ?= build
BUILD_TYPE ?= Release
CMAKE_FLAGS ?=
PREFIX ?= /usr/local
DESTDIR ?=
PKGS = gcc make cmake pkg-config liblua5.4-dev libopenblas-dev libcriterion-dev zlib1g-dev \
       nettle-dev gnuplot-nox dataset-fashion-mnist python3-numpy libdnnl-dev

FUZZ_SECONDS ?= 60
FUZZ_TARGETS = idx cifar csv mat ckpt manifest result script weights

.PHONY: demo check bench build configure install uninstall deps fuzz

demo: build
	./$(BUILD)/vibrun experiments/quickstart.lua
	@echo
	@echo "CSV:    runs/quickstart/results.csv, runs/quickstart/*/metrics.csv"
	@echo "figure: runs/quickstart/plots/training_curve.png"

check: build
	cd $(BUILD) && ctest --output-on-failure

# Ratios against a roofline measured in the same run, never wall-clock limits (docs/performance.md).
# Each benchmark's output is shown and kept in $(BENCH_LOG); tests/bench/bench_table.sh then prints
# the TABLE| lines of all of them as one table (a benchmark adds one line here, in this form).
BENCH_LOG = $(BUILD)/bench.log
# (stdbuf: each line shows as it is printed, not when the program ends)
bench_run = { stdbuf -oL $(1) || echo "BENCH FAILED (exit $$?): $(1)"; } 2>&1 | tee -a $(BENCH_LOG)
bench: build
	@: > $(BENCH_LOG); date +%s > $(BUILD)/bench.start
	@$(call bench_run,./$(BUILD)/tests/bench_mlp 300)
	@$(call bench_run,./$(BUILD)/tests/bench_vib 200 --vibrun ./$(BUILD)/vibrun)
	@$(call bench_run,./$(BUILD)/tests/bench_mi)
	@$(call bench_run,./$(BUILD)/tests/bench_imb)
	@$(call bench_run,./$(BUILD)/tests/bench_conv)
	@$(call bench_run,./$(BUILD)/tests/bench_resnet 20 --pytorch tests/tools/ref_resnet_cifar.py)
	@$(call bench_run,./$(BUILD)/tests/bench_attack 50)
	@$(call bench_run,./$(BUILD)/tests/bench_expr 200)
	@tests/bench/bench_table.sh $(BENCH_LOG) $$(cat $(BUILD)/bench.start)

# Readers of untrusted bytes under libFuzzer (clang, ASan, UBSan); a crash fails it naming the input.
fuzz: deps
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVIB_FUZZ=ON
	cmake --build build-fuzz -j$$(nproc) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

build: configure
	cmake --build $(BUILD) -j$$(nproc)

# A build directory configured for another folder (a checkout moved or copied with its build/)
# holds a CMakeCache.txt that CMake refuses; its cache and generated files are dropped, and the
# directory is configured again for this checkout.
configure: deps
	@cache=$(BUILD)/CMakeCache.txt; \
	if [ -f "$$cache" ]; then \
	  src=$$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$$cache"); \
	  bin=$$(sed -n 's/^CMAKE_CACHEFILE_DIR:INTERNAL=//p' "$$cache"); \
	  if ! [ "$$src" -ef . ] || ! [ "$$bin" -ef "$(BUILD)" ]; then \
	    echo "$(BUILD) was configured for $$src (build directory $$bin); configuring it again for $$(pwd)"; \
	    rm -rf "$$cache" "$(BUILD)/CMakeFiles"; \
	  fi; \
	fi
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)

# `make && sudo make install`: root installs the build the user made as it is, without
# configuring or building in it (that would leave files in it the user cannot replace).
install:
	@if [ -f $(BUILD)/CMakeCache.txt ] && [ "$$(stat -c %u $(BUILD)/CMakeCache.txt)" != "$$(id -u)" ]; then 	  echo "$(BUILD) belongs to another user: installing it as it was built"; 	else 	  $(MAKE) --no-print-directory build; 	fi
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix $(PREFIX)

uninstall:
	@[ -f $(BUILD)/vib_uninstall.cmake ] || { echo "$(BUILD) is not configured: nothing was installed from it"; exit 1; }
	DESTDIR="$(DESTDIR)" cmake -DMANIFEST=$(BUILD)/install_manifest.txt -P $(BUILD)/vib_uninstall.cmake

# Installs the Debian packages that are missing: with apt-get as root, through sudo otherwise;
# without either, prints the command to run.
deps:
	@if ! command -v dpkg-query >/dev/null 2>&1; then \
	  echo "not a Debian system: install the equivalents of: $(PKGS)"; exit 0; fi; \
	missing=""; \
	for p in $(PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing missing packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  elif command -v sudo >/dev/null 2>&1; then \
	    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "run as root: apt-get install$$missing"; exit 1; \
	  fi; \
	fi
