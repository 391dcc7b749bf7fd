# The README's two commands: `make demo` and `make test`. Everything else is
# meson; this file only sequences the steps.
BUILD ?= build
OUT ?= out

.PHONY: all deps build demo test bench torture clean

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
	bash bench/update-apply

# Long fault campaigns (50 power cuts during an update in a guest), by hand.
torture: deps
	bash tests/torture

clean:
	rm -rf $(BUILD) build-asan $(OUT)
