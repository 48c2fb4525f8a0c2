# readmit - top-level build. `make help` lists the targets.
# The pipeline DAG (ingest -> clean -> train -> register -> report) is in pipeline.mk.

SHELL := /bin/bash
.DEFAULT_GOAL := all
TOP := $(abspath .)

BUILD ?= build
CC ?= gcc
PKGS := libpq yaml-0.1 jansson libxml-2.0 libarchive libcrypto
CSTD := -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L
WARN := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
        -Wvla -Wwrite-strings -Wpointer-arith -Wundef -fno-common
WERROR ?= -Werror
OPT ?= -O2 -g
SAN := -O1 -g -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all -fno-omit-frame-pointer
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS_ALL = $(CSTD) $(WARN) $(WERROR) $(OPT) $(EXTRA_CFLAGS) -MMD -MP -Isrc -I$(BUILD)/gen $(PKG_CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lfcgi -lpthread -lm

LIB_SRC := $(sort $(wildcard src/*.c))
CMD_SRC := $(sort $(wildcard src/cmd/*.c))
FCGI_SRC := $(sort $(wildcard fcgi/*.c))
FCGI_BENCH_SRC := $(sort $(wildcard fcgi/bench/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
SQL_FILES := $(sort $(shell find sql -name '*.sql' 2>/dev/null))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/sql_gen.o
CMD_OBJ := $(CMD_SRC:%.c=$(BUILD)/%.o)
FCGI_OBJ := $(FCGI_SRC:%.c=$(BUILD)/%.o)
FCGI_BENCH_OBJ := $(FCGI_BENCH_SRC:%.c=$(BUILD)/%.o) $(filter-out $(BUILD)/fcgi/main.o,$(FCGI_OBJ))
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/%.o)
TOOLS := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/%)

# Quiet like kbuild: one short line per step (CC src/gbt.c); V=1 prints the commands.
V ?= 0
ifeq ($(V),1)
Q :=
say :=
export READMIT_VERBOSE := 1
else
Q := @
say = @printf '  %-7s %s\n' '$(1)' '$(2)';
endif

READMIT := $(BUILD)/readmit
READMIT_FCGI := $(BUILD)/readmit-fcgi
READMIT_FCGI_BENCH := $(BUILD)/readmit-fcgi-bench
UNIT := $(BUILD)/test-unit
DEPS_OK := var/state/deps.ok

.PHONY: all build deps help check check-unit check-shell check-asan check-valgrind clean \
        clean-build distclean format demo
.DELETE_ON_ERROR:

## all: build everything and bring the pipeline up to date
all: build pipeline

## build: compile the library, the readmit command, the FastCGI server, the tests and the benchmarks' programs
build: $(READMIT) $(UNIT) $(if $(FCGI_SRC),$(READMIT_FCGI) $(READMIT_FCGI_BENCH)) $(TOOLS) \
       $(BUILD)/bench-score $(BUILD)/gbt-fit-matrix $(BUILD)/scale-matrix

## deps: install the Debian packages the project needs (as root; else prints the command)
deps: $(DEPS_OK)
$(DEPS_OK): scripts/deps.sh
	@scripts/deps.sh
	@mkdir -p $(@D) && touch $@

# sql/ and sql/schema themselves: a removed statement regenerates both files
$(BUILD)/gen/sql_gen.c: $(SQL_FILES) sql sql/schema scripts/embed-sql.sh | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call say,GEN,$@)scripts/embed-sql.sh sql > $@.tmp && mv $@.tmp $@

# one enum constant per statement (src/db.h includes it)
$(BUILD)/gen/sql_ids.h: $(SQL_FILES) sql sql/schema scripts/embed-sql.sh | $(DEPS_OK)
	@mkdir -p $(@D)
	scripts/embed-sql.sh --header sql > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/unit_tests.h: $(UNIT_SRC)
	@mkdir -p $(@D)
	@grep -ho 'int test_[a-z0-9_]*_register(void)' $(UNIT_SRC) | sed 's/(void)//;s/^int //' | sort -u | \
	  awk '{d = d "int " $$1 "(void);\n"; r = r "    " $$1 ",\n"} END {printf "%s#define UNIT_SUITES \\\n%s\n", d, r}' \
	  | sed 's/,$$/, \\/' > $@.tmp && mv $@.tmp $@

$(BUILD)/%.o: %.c | $(DEPS_OK) $(BUILD)/gen/sql_ids.h
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/gen/sql_gen.o: $(BUILD)/gen/sql_gen.c
	$(call say,CC,$<)$(CC) $(CSTD) $(OPT) $(EXTRA_CFLAGS) -c $< -o $@

$(BUILD)/libreadmit.a: $(LIB_OBJ)
	@rm -f $@
	$(call say,AR,$@)ar rcs $@ $^

$(READMIT): $(CMD_OBJ) $(BUILD)/libreadmit.a
	$(call say,LD,$@)$(CC) $(OPT) $(EXTRA_CFLAGS) -o $@ $(CMD_OBJ) $(BUILD)/libreadmit.a $(LDLIBS_ALL)

$(BUILD)/calibration-report: $(BUILD)/tests/bench/calibration_report.o $(BUILD)/libreadmit.a
	$(CC) $(OPT) $(EXTRA_CFLAGS) -o $@ $< $(BUILD)/libreadmit.a $(LDLIBS_ALL)

$(BUILD)/history-experiment: $(BUILD)/tests/bench/history_experiment.o $(BUILD)/libreadmit.a
	$(CC) $(OPT) $(EXTRA_CFLAGS) -o $@ $< $(BUILD)/libreadmit.a $(LDLIBS_ALL)

$(BUILD)/bench-explain: $(BUILD)/tests/bench/bench_explain.o $(BUILD)/libreadmit.a
	$(CC) $(OPT) $(EXTRA_CFLAGS) -o $@ $< $(BUILD)/libreadmit.a $(LDLIBS_ALL)

$(READMIT_FCGI): $(FCGI_OBJ) $(BUILD)/libreadmit.a
	$(call say,LD,$@)$(CC) $(OPT) $(EXTRA_CFLAGS) -o $@ $(FCGI_OBJ) $(BUILD)/libreadmit.a $(LDLIBS_ALL)

$(READMIT_FCGI_BENCH): $(FCGI_BENCH_OBJ) $(BUILD)/libreadmit.a
	$(CC) $(OPT) $(EXTRA_CFLAGS) -o $@ $(FCGI_BENCH_OBJ) $(BUILD)/libreadmit.a $(LDLIBS_ALL)

# test drivers (tests/tools/NAME.c -> build/NAME), used by the shell tests
$(TOOLS): $(BUILD)/%: $(BUILD)/tests/tools/%.o $(BUILD)/libreadmit.a
	$(CC) $(OPT) $(EXTRA_CFLAGS) -o $@ $< $(BUILD)/libreadmit.a $(LDLIBS_ALL)

$(BUILD)/tests/unit/main.o: $(BUILD)/gen/unit_tests.h

$(UNIT): $(UNIT_OBJ) $(BUILD)/libreadmit.a
	$(call say,LD,$@)$(CC) $(OPT) $(EXTRA_CFLAGS) -o $@ $(UNIT_OBJ) $(BUILD)/libreadmit.a $(LDLIBS_ALL) -lcunit

## bench-score: scoring micro-benchmark on one core: us per record, single and in blocks of 100 (MODEL=file to use a saved model)
bench-score: $(BUILD)/bench-score
	$(BUILD)/bench-score $(if $(MODEL),--model $(MODEL))

$(BUILD)/bench-score: $(BUILD)/tests/bench/bench_score.o $(BUILD)/libreadmit.a
	$(CC) $(OPT) $(EXTRA_CFLAGS) -o $@ $< $(BUILD)/libreadmit.a $(LDLIBS_ALL)

## bench-logformat: the prediction log writer's formatting alone, one core: predictions/s for single records and batches of 100 (DATA=...)
bench-logformat: $(BUILD)/bench-logformat $(BUILD)/bench-score $(READMIT)
	BUILD=$(BUILD) scripts/bench-logformat.sh $(if $(wildcard $(BENCH_DATA)),$(abspath $(BENCH_DATA)))

$(BUILD)/bench-logformat: $(BUILD)/tests/bench/bench_logformat.o $(BUILD)/libreadmit.a
	$(CC) $(OPT) $(EXTRA_CFLAGS) -o $@ $< $(BUILD)/libreadmit.a $(LDLIBS_ALL)

## bench-predict: readmit predict CSV -> CSV throughput, 1 and 2 threads, wall and CPU time (MODEL=file, READMIT_BENCH_ROWS)
bench-predict: $(READMIT) $(BUILD)/bench-score
	BUILD=$(BUILD) scripts/bench-predict.sh
.PHONY: bench-score bench-predict bench-logformat

# the boosted trees on the peers' encoded matrix (scripts/bench-train.sh, bench-gbt-peers.py --ours)
$(BUILD)/gbt-fit-matrix: $(BUILD)/tests/bench/gbt_fit_matrix.o $(BUILD)/libreadmit.a
	$(CC) $(OPT) $(EXTRA_CFLAGS) -o $@ $< $(BUILD)/libreadmit.a $(LDLIBS_ALL)
# the trees' encoded matrix of a CSV, for the peers of scripts/bench-scale.sh
$(BUILD)/scale-matrix: $(BUILD)/tests/bench/scale_matrix.o $(BUILD)/libreadmit.a
	$(CC) $(OPT) $(EXTRA_CFLAGS) -o $@ $< $(BUILD)/libreadmit.a $(LDLIBS_ALL)

## check: all tests: unit (CUnit), unit under ASan+UBSan, shell/integration (real data tier when READMIT_REAL_DATA is set), fuzz corpora
check: check-unit check-asan check-shell check-fuzz

## check-unit: CUnit unit tests
check-unit: $(UNIT)
	cd tests && ../$(UNIT)

## check-asan: unit tests built and run under AddressSanitizer and UndefinedBehaviorSanitizer
check-asan:
	$(MAKE) --no-print-directory BUILD=build/asan OPT="$(SAN)" build/asan/test-unit build/asan/readmit
	cd tests && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ../build/asan/test-unit

## check-valgrind: unit tests under valgrind (leaks are errors)
check-valgrind: $(UNIT)
	cd tests && valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite ../$(UNIT)

## check-shell: integration tests in tests/t against the real servers
check-shell: build
	tests/run.sh

## format: clang-format the C sources
format:
	clang-format -i src/*.[ch] src/cmd/*.[ch] $(wildcard fcgi/*.[ch]) tests/unit/*.[ch]

## clean: remove build outputs (keeps var/, the database and reports/)
clean:
	$(call say,CLEAN,$(BUILD))rm -rf $(BUILD)
clean-build: clean

## distclean: clean, stop the servers, and remove var/ (the private database too) and reports/
distclean: clean
	-@READMIT_CONFIG=$(CONF) scripts/serve.sh stop >/dev/null 2>&1
	-@scripts/pg.sh stop >/dev/null 2>&1
	@if [ -L var/pg ]; then rm -rf "$$(readlink -f var/pg)"; fi
	$(call say,CLEAN,var reports)rm -rf var $(filter-out reports/README.md,$(wildcard reports/*))

## bench-locust: Locust next to wrk on POST /api/v1/predict (req/s, failures, p50/p95/p99, CPU)
.PHONY: bench-locust
bench-locust: build
	BUILD=$(BUILD) READMIT_DATA=$(abspath $(DATA)) scripts/bench-locust.sh

## demo-cluster: three serving hosts behind nginx in network namespaces: host kill, promotions, DB down, 1/2/3-host throughput (root)
.PHONY: demo-cluster
demo-cluster: build
	BUILD=$(BUILD) scripts/demo-cluster.sh

## check-containers: podman: build the images, compose up, pipeline on a synthetic file, a prediction via nginx, tear down (SKIPPED when podman cannot run)
.PHONY: check-containers
check-containers: build
	scripts/check-containers.sh

## soak: wrk load for SOAK_SECONDS (600) under scheduled faults (kills, PostgreSQL restart, pipeline runs) in a temp dir of its own; prints the table
.PHONY: soak
soak: build
	BUILD=$(BUILD) scripts/soak.sh

## codesize: the largest source files and functions (lines), with the counts over the limits (TREE=DIR measures another checkout)
.PHONY: codesize
codesize:
	@scripts/codesize.sh $(TREE)

## help: list the targets
help:
	@grep -h '^## ' $(MAKEFILE_LIST) | sed 's/^## //' | \
	  awk '{i = index($$0, ": "); printf "  %-16s %s\n", substr($$0, 1, i - 1), substr($$0, i + 2)}'

include tests/fuzz/fuzz.mk

-include $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d) $(FCGI_OBJ:.o=.d) $(FCGI_BENCH_SRC:%.c=$(BUILD)/%.d) \
         $(UNIT_OBJ:.o=.d) $(TOOL_SRC:%.c=$(BUILD)/%.d)

include pipeline.mk
