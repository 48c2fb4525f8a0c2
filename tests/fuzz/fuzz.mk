# tests/fuzz/fuzz.mk - libFuzzer targets (clang), included by the Makefile.
#   make fuzz          each target for FUZZ_SECONDS (default 180) from its seed
#                      corpus; prints executions and crashes per target
#   make check-fuzz    replays every seed corpus, then runs each target briefly
#                      (FUZZ_BRIEF seconds, default 5); part of make check
# Targets: tests/fuzz/fuzz_<name>.c (fuzz_fastcgi.c with fcgi/fastcgi.c) with seeds in tests/fuzz/corpus/<name>/ and
# an optional dictionary tests/fuzz/<name>.dict. The library is built with
# clang under ASan/UBSan and coverage into build/fuzz. New inputs found go to
# build/fuzz/work/<name>/, crashes to build/fuzz/crashes/ (add each as a seed
# once fixed).

FUZZ_CC ?= clang
FUZZ_BUILD := build/fuzz
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_SECONDS ?= 180
FUZZ_BRIEF ?= 5
FUZZ_SAN := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

.PHONY: fuzz check-fuzz fuzz-build

## fuzz-build: build the libFuzzer targets (clang) into build/fuzz
fuzz-build:
	@command -v $(FUZZ_CC) >/dev/null || { echo "fuzz: $(FUZZ_CC) not found (make deps installs clang)" >&2; exit 1; }
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) WERROR= \
	  OPT="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" $(FUZZ_BUILD)/libreadmit.a
	@for t in $(FUZZ_TARGETS); do \
	  $(FUZZ_CC) $(CSTD) $(FUZZ_SAN) -fsanitize=fuzzer -Isrc -I$(FUZZ_BUILD)/gen $(PKG_CFLAGS) \
	    tests/fuzz/fuzz_$$t.c $$(test $$t = fastcgi && echo -Ifcgi fcgi/fastcgi.c) $(FUZZ_BUILD)/libreadmit.a $(LDLIBS_ALL) -o $(FUZZ_BUILD)/fuzz_$$t || exit 1; \
	done

# run one target: $(call fuzz_run,NAME,SECONDS)
define fuzz_run
mkdir -p $(FUZZ_BUILD)/work/$(1) $(FUZZ_BUILD)/crashes && \
  UBSAN_OPTIONS=print_stacktrace=1 $(FUZZ_BUILD)/fuzz_$(1) -max_total_time=$(2) -timeout=10 -rss_limit_mb=1024 \
  -artifact_prefix=$(FUZZ_BUILD)/crashes/$(1)- $$(test -f tests/fuzz/$(1).dict && echo -dict=tests/fuzz/$(1).dict) \
  $(FUZZ_BUILD)/work/$(1) tests/fuzz/corpus/$(1) >$(FUZZ_BUILD)/$(1).log 2>&1; \
  rc=$$?; \
  echo "fuzz $(1): $$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 executions in \2 s/p' $(FUZZ_BUILD)/$(1).log | tail -1), \
$$(ls $(FUZZ_BUILD)/crashes/ 2>/dev/null | grep -c "^$(1)-") crash file(s), exit $$rc (log: $(FUZZ_BUILD)/$(1).log)"; \
  test $$rc -eq 0
endef

## fuzz: run each libFuzzer target for FUZZ_SECONDS (default 180) and print executions and crashes
fuzz: fuzz-build
	@fail=0; for t in $(FUZZ_TARGETS); do \
	  $(call fuzz_run,$$t,$(FUZZ_SECONDS)) || fail=1; \
	done; exit $$fail

## check-fuzz: replay the fuzz seed corpora under ASan/UBSan, then fuzz each target briefly
check-fuzz: fuzz-build
	@fail=0; for t in $(FUZZ_TARGETS); do \
	  if UBSAN_OPTIONS=print_stacktrace=1 $(FUZZ_BUILD)/fuzz_$$t -runs=0 tests/fuzz/corpus/$$t >$(FUZZ_BUILD)/$$t-replay.log 2>&1; then \
	    echo "fuzz $$t: $$(ls tests/fuzz/corpus/$$t | wc -l) seeds replayed"; \
	  else echo "fuzz $$t: seed replay FAILED (see $(FUZZ_BUILD)/$$t-replay.log)"; fail=1; fi; \
	  $(call fuzz_run,$$t,$(FUZZ_BRIEF)) || fail=1; \
	done; exit $$fail
