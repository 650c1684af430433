# Thin wrapper over the scripts that do the work: deps, build, test, run, bench, fuzz.
SHELL := /bin/bash
BUILD ?= build
FUZZ_SECONDS ?= 60
SOAK_MINUTES ?= 30

.PHONY: all build deps test run bench drill drill-writer drill-rejoin fuzz soak clean format

all: build

deps:
	bash test/lib/deps.sh

build: deps
	@if [ ! -f $(BUILD)/build.ninja ]; then meson setup $(BUILD); fi
	ninja -C $(BUILD)
	@echo "built $(BUILD)/proxy/galera-proxy"

# Everything CI runs: lint, unit (plain, valgrind, ASan), fuzz, integration (plain, ASan).
test:
	bash test/run-all.sh

# One MariaDB (later a 3-node Galera cluster) and galera-proxy on 127.0.0.1:6033; Ctrl-C stops.
run: build
	BUILD=$(BUILD) bash test/lib/devrun.sh

bench: deps
	@if [ -f bench/run.sh ]; then bash bench/run.sh; else echo "bench/run.sh not written yet"; exit 1; fi
	@if [ "$${BENCH_MOVE:-1}" = 1 ]; then bash bench/move.sh; fi

# 10 x kill -9 of the writer under a writing client, eviction on and off (bench/DRILL-WRITER.md).
drill-writer: build
	bash bench/drill_writer.sh --build $(BUILD)

# kill -9 of the writer, restarted after 0.5, 1, 3, 5 and 30 s (bench/DRILL-REJOIN.md).
drill-rejoin: build
	bash bench/drill_rejoin.sh --build $(BUILD)

# keepalived + two proxies + three Galera nodes in network namespaces (test/drill/RESULTS.md).
drill: build
	bash test/drill/run.sh --build $(BUILD)

# sysbench + connection churn through the proxy for SOAK_MINUTES; RSS, fds and session gauges
# must come back (test/soak/run.sh). `make test` runs it for 2 minutes.
soak: build
	bash test/soak/run.sh --minutes $(SOAK_MINUTES) --build $(BUILD)

fuzz: deps
	@if [ ! -f build-fuzz/build.ninja ]; then CC=clang meson setup build-fuzz -Dfuzz=true; fi
	ninja -C build-fuzz
	bash test/fuzz/run.sh $(FUZZ_SECONDS)

clean:
	rm -rf build build-asan build-fuzz

format:
	@git ls-files --cached --others --exclude-standard -- proxy test vrrp-hooks bench \
		| grep -E '\.[ch]$$' | grep -Ev '(^|/)build[^/]*/' | xargs -r clang-format -i
