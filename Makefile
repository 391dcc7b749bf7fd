# The README's two commands: `make demo` and `make test`. Everything else is
# meson; this file only sequences the steps.
BUILD ?= build
OUT ?= out

.PHONY: all deps build demo test bench clean

all: build

deps:
	bash scripts/deps

build:
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) -Dwerror_all=true
	ninja -C $(BUILD)

demo: deps build
	bash scripts/demo

test: deps
	bash tests/run

bench: deps build
	bash bench/run
	bash bench/update

clean:
	rm -rf $(BUILD) build-asan $(OUT)
