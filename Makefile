# The two commands: `make demo` and `make test`. Both install missing Debian packages first.
# `make format-check` fails on a source that differs from .clang-format (CI runs it; `make format` fixes).
# `make sanitize` runs the unit and slow tiers under ASan+UBSan and the threaded suites under TSan (CI does).
BUILD_DIR ?= build/dev
JOBS ?= $(shell nproc)
DATA_DIR ?= strongbox-data
STRONGBOX := $(BUILD_DIR)/appliance/strongbox

.PHONY: all deps build test sanitize demo format format-check clean

all: build

deps:
	@scripts/deps.sh

$(BUILD_DIR)/build.ninja:
	cmake --preset dev

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

sanitize: deps
	JOBS=$(JOBS) scripts/sanitize.sh

format:
	@scripts/format.sh

format-check:
	@scripts/format.sh --check

demo: build
	@scripts/demo.sh $(STRONGBOX) $(DATA_DIR)

clean:
	rm -rf build
