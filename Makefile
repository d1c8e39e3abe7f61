# A thin wrapper over CMake with the two entry points the README shows:
#   make demo    install what is missing, build (Release), run experiments/quickstart.lua
#   make check   install what is missing, build, run the whole test suite through ctest
# Variables: BUILD (build directory), BUILD_TYPE (Release, Debug), CMAKE_FLAGS (extra -D...).

BUILD ?= build
BUILD_TYPE ?= Release
CMAKE_FLAGS ?=
PKGS = gcc make cmake pkg-config liblua5.4-dev libopenblas-dev libcriterion-dev zlib1g-dev \
       gnuplot-nox dataset-fashion-mnist

.PHONY: demo check build deps

demo: build
	./$(BUILD)/vibrun experiments/quickstart.lua
	@echo
	@echo "CSV:    runs/quickstart/results.csv, runs/quickstart/*/metrics.csv"
	@echo "figure: runs/quickstart/plots/training_curve.png"

check: build
	cd $(BUILD) && ctest --output-on-failure

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j$$(nproc)

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
