# pipeline.mk - the readmit DAG: ingest -> clean -> train -> register -> report
# (train -> details -> report beside register).
#
# Each stage is a `var/state/<stage>.ran` target that runs `readmit <stage>`
# and a `var/state/<stage>.stamp` that the stage rewrites only when it produced
# something new (a fingerprint of its output). Downstream stages depend on the
# .stamp, so `make` re-runs exactly the stages below a change: a new data
# batch, an edited config section, a rebuilt binary, a promote or rollback.
# `make -n` shows the plan (the same checks, without side effects).
#
# The stages run under a lock (var/state/pipeline.lock): a second `make`
# started meanwhile waits for the first, then runs what is still stale.

.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:

CONF ?= conf/readmit.yaml
VAR ?= var
STATE := $(VAR)/state
BATCHES ?= all
STAGES := ingest clean train register monitor report
DB_UP := $(STATE)/db.ok
LOCK := $(STATE)/pipeline.lock
# the last source given with DATA= (or READMIT_DATA) that ingested without error
DATA_FILE := $(STATE)/data.source
# DBNAME=name selects another database on the private server (tests use this).
DB_OPTS := $(if $(DBNAME),-o db.name=$(DBNAME))
# the model file cache follows VAR
RDM := READMIT_MODEL_CACHE=$(abspath $(VAR))/models $(READMIT)
# the same at a lower priority, for work nothing served waits for
RDM_NICE := READMIT_MODEL_CACHE=$(abspath $(VAR))/models nice -n 10 $(READMIT)
# written by the monitor stage when monitor.retrain_when fires: train and register re-run
RETRAIN := $(wildcard $(STATE)/retrain.stamp)

# Source data: DATA=path (command line or environment), else READMIT_DATA,
# else the source remembered from the last run that was given one, else
# data.source in $(CONF).
DATA_GIVEN := $(if $(filter command line environment,$(origin DATA)),$(DATA),$(READMIT_DATA))
DATA_REMEMBERED := $(strip $(file <$(DATA_FILE)))
ifneq ($(DATA_GIVEN),)
DATA := $(DATA_GIVEN)
DATA_FROM := given
else ifneq ($(DATA_REMEMBERED),)
DATA := $(DATA_REMEMBERED)
DATA_FROM := remembered from an earlier run ($(DATA_FILE))
else
DATA = $(or $(CONF_SOURCE),data/dataset_diabetes.zip)
DATA_FROM := data.source in $(CONF)
endif
# data.source of the config, asked from readmit itself (no YAML parsing here);
# evaluated once, when first needed
CONF_SOURCE = $(eval CONF_SOURCE := $$(if $$(wildcard $$(READMIT)),$$(shell $$(READMIT) config -c $$(CONF) --get data.source 2>/dev/null)))$(CONF_SOURCE)
RDM_OPTS = -c $(CONF) -o data.source=$(abspath $(DATA)) $(DB_OPTS) \
           $(if $(REPORT_DIR),-o report.dir=$(abspath $(REPORT_DIR)))

PIPELINE_GOALS := pipeline ingest clean-data train details register monitor report up
.PHONY: $(PIPELINE_GOALS) outcomes replay db-start db-stop db-psql demo data serve stop status \
        bench-ingest bench-train bench-serve bench-explain bench-calibration experiment-history bench-report \
        bench-monitor bench-log bench-scale bench-pipeline FORCE
FORCE:

# make -n and make -q only look: they never wait for the lock.
DRY_RUN := $(findstring n,$(firstword -$(MAKEFLAGS)))$(findstring q,$(firstword -$(MAKEFLAGS)))
ifeq ($(RDM_LOCKED)$(DRY_RUN),)

## pipeline: bring every stage up to date (ingest, clean, train, register, monitor, report)
## ingest: load new batches of the source (DATA=path, BATCHES=next|all|K)
## clean-data: type, filter, validate and profile new raw batches (readmit clean)
## train: train every configured model on the clean snapshot
## details: the test split's explanations and performance by group of the latest training's runs (for the report; beside register with -j2)
## register: register the best run; promote it to champion if it passes the gate
## monitor: outcomes from new batches, drift, live and estimated performance, retrain trigger
## report: write the static HTML reports (reports/index.html)
## up: the pipeline, and the pool serving its champion: started beside register (make -j2 up), it serves the champion as soon as register promotes it; details, monitor and report run beside it
# Take the lock, then run the goal in a make that reads the state afresh. The
# lock's descriptor is not passed on: a server a stage starts (the private
# PostgreSQL) must not hold the lock after make returns.
$(PIPELINE_GOALS): $(READMIT) | $(STATE)
	@exec 9>>$(LOCK); \
	if ! flock -n 9; then \
	  echo "make: another pipeline run holds $(LOCK): waiting for it to finish" >&2; \
	  flock 9; echo "make: lock acquired; running what is still stale" >&2; \
	fi; \
	rc=0; $(MAKE) --no-print-directory RDM_LOCKED=1 $@ 9>&- || rc=$$?; exit $$rc

else # the stages themselves, under the lock (or for make -n / -q)

pipeline: $(STATE)/report.ran

# The pool serves the champion of the registry and follows it (LISTEN
# readmit_model): it starts once training is done (the schema and the runs
# exist), beside register, and serves the new champion the moment register
# promotes it (503 until there is one); it needs neither details, monitor nor
# report, which run beside it with -j2 (serve-champion comes first, so that
# make gives it the first free job). A pool already running follows the new
# champion by itself; serve.sh start then says so.
up: serve-champion $(STATE)/report.ran
.PHONY: serve-champion
serve-champion: $(STATE)/train.stamp $(READMIT_FCGI) | $(DB_UP)
	@READMIT_CONFIG=$(CONF) READMIT_FCGI=$(READMIT_FCGI) READMIT_MODEL_CACHE=$(abspath $(VAR))/models \
	  READMIT_FCGI_OPTS="$(DB_OPTS) $(if $(REPORT_DIR),-o report.dir=$(abspath $(REPORT_DIR))) $(READMIT_FCGI_OPTS)" \
	  $(CURDIR)/scripts/serve.sh start

# Config stamps, one per stage: conf-<stage>.stamp holds the fingerprint of the
# settings the stage reads. The stale ones are found now, from readmit's
# fingerprints, so that make -n plans exactly the stages that will run.
CONF_FPS := $(if $(wildcard $(READMIT)),$(shell $(RDM) config $(RDM_OPTS) --fingerprints 2>/dev/null))
conf_fp = $(patsubst $1=%,%,$(filter $1=%,$(CONF_FPS)))
conf_stale = $(if $(and $(call conf_fp,$1),$(filter $(call conf_fp,$1),$(file <$(STATE)/conf-$1.stamp))),,$1)
CONF_STALE := $(foreach s,$(STAGES),$(call conf_stale,$s))
# (one step rewrites every changed stamp and says so in one line)
$(CONF_STALE:%=$(STATE)/conf-%.stamp): conf-stamps ;
.PHONY: conf-stamps
conf-stamps: | $(STATE)
	@$(RDM) config $(RDM_OPTS) --write-stamps $(STATE)

# Registry aliases: promote and rollback (also outside make) change what the
# report shows. report.ran holds the alias fingerprint the report was written
# with; when the registry's differs now, the report is stale.
ALIAS_FP := $(if $(wildcard $(READMIT)),$(shell $(RDM) history $(RDM_OPTS) --fingerprint 2>/dev/null))
ALIASES_MOVED := $(if $(and $(ALIAS_FP),$(wildcard $(STATE)/report.ran)),$(if $(filter $(ALIAS_FP),$(file <$(STATE)/report.ran)),,FORCE))

# A stage rewrites its stamp only when its output changed; make then sees the
# stamp unchanged and the stages below stay put. make -n cannot run the stage
# to find out, so it assumes the output changes only for a reason known now: new
# settings of the stage, new data, a stage above that changes, or no stamp yet.
# A stage that re-runs for another reason (a rebuilt binary) is still listed.
ifeq ($(DRY_RUN),)
stamp_from = $(STATE)/$1.ran ;
else
stage_new = $(or $(filter $1,$(CONF_STALE)),$(if $(wildcard $(STATE)/$1.ran),,$1))
CHANGES_ingest := $(or $(call stage_new,ingest),$(filter-out all,$(BATCHES)),$(if $(wildcard $(DATA)),$(shell test "$(DATA)" -nt $(STATE)/ingest.ran && echo data)))
CHANGES_clean := $(or $(call stage_new,clean),$(CHANGES_ingest))
CHANGES_train := $(or $(call stage_new,train),$(CHANGES_clean))
CHANGES_details := $(or $(if $(wildcard $(STATE)/details.ran),,details),$(CHANGES_train))
CHANGES_register := $(or $(call stage_new,register),$(CHANGES_train))
CHANGES_monitor := $(or $(call stage_new,monitor),$(CHANGES_register),$(CHANGES_ingest),$(if $(wildcard $(STATE)/traffic.stamp),$(shell test $(STATE)/traffic.stamp -nt $(STATE)/monitor.ran && echo traffic)))
stamp_from = $(if $(CHANGES_$1),$(STATE)/$1.ran) ;
# every stage is still checked (a rebuilt binary re-runs each), in DAG order
$(STATE)/clean.ran: | $(STATE)/ingest.ran
$(STATE)/train.ran: | $(STATE)/clean.ran
$(STATE)/details.ran: | $(STATE)/train.ran
$(STATE)/register.ran: | $(STATE)/train.ran
$(STATE)/monitor.ran: | $(STATE)/register.ran
$(STATE)/report.ran: | $(STATE)/monitor.ran $(STATE)/details.ran
endif

# ingest runs when its inputs change, and every time with BATCHES other than all
ingest: $(STATE)/ingest.ran
$(STATE)/ingest.ran: $(READMIT) $(STATE)/conf-ingest.stamp $(wildcard $(DATA)) $(if $(filter-out all,$(BATCHES)),FORCE) | $(DB_UP)
	@test -e "$(DATA)" || { echo "readmit: no source data at '$(DATA)' ($(DATA_FROM)): run 'make data' or pass DATA=path/to/dataset_diabetes.zip" >&2; exit 1; }
	@touch $@
	$(Q)$(RDM) ingest $(RDM_OPTS) --batches $(BATCHES) --stamp $(STATE)/ingest.stamp
	$(if $(DATA_GIVEN),@echo "$(abspath $(DATA))" > $(DATA_FILE))
$(STATE)/ingest.stamp: $(call stamp_from,ingest)

clean-data: $(STATE)/clean.ran
$(STATE)/clean.ran: $(READMIT) $(STATE)/ingest.stamp $(STATE)/conf-clean.stamp | $(DB_UP)
	@touch $@
	$(Q)$(RDM) clean $(RDM_OPTS) --stamp $(STATE)/clean.stamp
$(STATE)/clean.stamp: $(call stamp_from,clean)

train: $(STATE)/train.ran
$(STATE)/train.ran: $(READMIT) $(STATE)/clean.stamp $(STATE)/conf-train.stamp $(RETRAIN) | $(DB_UP)
	@touch $@
	$(if $(RETRAIN),@echo "train: retrain triggered by the monitor: $$(tail -n 1 $(RETRAIN))")
	$(Q)$(RDM) train $(RDM_OPTS) --defer-details --stamp $(STATE)/train.stamp
$(STATE)/train.stamp: $(call stamp_from,train)

# What only the report reads (each run's explanations and performance by
# group on the test split) is measured after train, beside register and the
# pool (make -j2 up), at a lower priority; the same values train measures
# without --defer-details.
details: $(STATE)/details.ran
$(STATE)/details.ran: $(READMIT) $(STATE)/train.stamp | $(DB_UP)
	@touch $@
	$(Q)$(RDM_NICE) train $(RDM_OPTS) --details --stamp $(STATE)/details.stamp
$(STATE)/details.stamp: $(call stamp_from,details)

register: $(STATE)/register.ran
$(STATE)/register.ran: $(READMIT) $(STATE)/train.stamp $(STATE)/conf-register.stamp $(RETRAIN) | $(DB_UP)
	@touch $@
	$(Q)$(RDM) register $(RDM_OPTS) --stamp $(STATE)/register.stamp
$(STATE)/register.stamp: $(call stamp_from,register)

# monitor: after register, again when a batch arrives, its settings change or new traffic
# or outcomes are recorded (make outcomes / make replay touch traffic.stamp)
monitor: $(STATE)/monitor.ran
$(STATE)/monitor.ran: $(READMIT) $(STATE)/register.stamp $(STATE)/ingest.stamp \
                      $(STATE)/conf-monitor.stamp $(wildcard $(STATE)/traffic.stamp) | $(DB_UP)
	@touch $@
	$(Q)$(RDM) monitor $(RDM_OPTS) -q --stamp $(STATE)/monitor.stamp --retrain-stamp $(STATE)/retrain.stamp
$(STATE)/monitor.stamp: $(call stamp_from,monitor)

report: $(STATE)/report.ran
$(STATE)/report.ran: $(READMIT) $(STATE)/register.stamp $(STATE)/details.stamp $(STATE)/clean.stamp \
                     $(STATE)/conf-report.stamp $(STATE)/monitor.stamp $(ALIASES_MOVED) | $(DB_UP)
	@$(RDM) history $(RDM_OPTS) --fingerprint > $@ 2>/dev/null || touch $@
	$(Q)$(RDM) report $(RDM_OPTS) --stamp $(STATE)/report.stamp

endif

$(STATE):
	@mkdir -p $@

# The private PostgreSQL server (or the external one named by PGHOST/DATABASE_URL).
$(DB_UP): scripts/pg.sh | $(DEPS_OK) $(STATE)
	@$(if $(DBNAME),READMIT_DBNAME=$(DBNAME)) scripts/pg.sh start
	@touch $@

## replay: live traffic through the HTTP API (after make serve): REPLAY_ROWS, REPLAY_DAYS, REPLAY_RATE, SCENARIO=none|age|admission|payer
REPLAY_ROWS ?= 4000
REPLAY_DAYS ?= 8
REPLAY_RATE ?= 1000
SCENARIO ?= age
replay: $(READMIT) | $(DB_UP) $(STATE)
	@mkdir -p $(VAR)/replay
	@$(RDM) synth --rows $(REPLAY_ROWS) --seed 9090 > $(VAR)/replay/records.csv
	$(RDM) replay $(RDM_OPTS) -q --input $(VAR)/replay/records.csv --days $(REPLAY_DAYS) \
	  --rate $(REPLAY_RATE) --scenario $(SCENARIO) --outcomes $(VAR)/replay/outcomes.csv
	@touch $(STATE)/traffic.stamp
	$(RDM) monitor $(RDM_OPTS) -o monitor.window_rows=$$(( $(REPLAY_ROWS) / $(REPLAY_DAYS) )) \
	  --stamp $(STATE)/monitor.stamp --retrain-stamp $(STATE)/retrain.stamp
	$(RDM) report $(RDM_OPTS) -q --stamp $(STATE)/report.stamp

## outcomes: load observed outcomes (FILE=path.csv: encounter_id, readmitted[, observed_at])
outcomes: $(READMIT) | $(DB_UP) $(STATE)
	@test -n "$(FILE)" || { echo "usage: make outcomes FILE=path.csv" >&2; exit 2; }
	$(RDM) outcomes $(RDM_OPTS) --input $(FILE)
	@touch $(STATE)/traffic.stamp

## status: batches, row counts, validation, runs and model versions; the data source in use
status: $(READMIT) | $(DB_UP)
	@echo "data source: $(DATA) ($(DATA_FROM))"
	@$(RDM) status $(RDM_OPTS)

## db-start: start the private PostgreSQL server under var/pg (no-op with PGHOST/DATABASE_URL)
db-start: | $(DEPS_OK)
	@$(if $(DBNAME),READMIT_DBNAME=$(DBNAME)) scripts/pg.sh start
	@mkdir -p $(STATE) && touch $(DB_UP)

## db-stop: stop the private PostgreSQL server
db-stop:
	@scripts/pg.sh stop
	@rm -f $(DB_UP)

## db-psql: open psql on the project database
db-psql: | $(DB_UP)
	@scripts/pg.sh psql

## data: fetch the UCI dataset zip into data/ (needs network) unless DATA already exists
data:
	@scripts/fetch-data.sh "$(DATA)"

## demo: the main job end to end: deps, build, database, ingest, clean, train, register, report, serve
demo: build
	@test -e "$(DATA)" || scripts/fetch-data.sh "$(DATA)"
	@$(MAKE) --no-print-directory pipeline
	@$(RDM) status $(RDM_OPTS)
	@echo "report: $(abspath $(or $(REPORT_DIR),reports))/index.html"
	@$(MAKE) --no-print-directory serve
	@scripts/demo-predict.sh "$(CONF)"
	@$(MAKE) --no-print-directory replay REPLAY_ROWS=2400 REPLAY_DAYS=6
	@echo "monitoring: $(abspath $(or $(REPORT_DIR),reports))/monitor.html"

## bench-ingest: ingest and clean throughput on the real data vs psql \copy
bench-ingest: build | $(DB_UP)
	scripts/bench-ingest.sh $(DATA)

## bench-scale: ingest, clean, train, predict on 100k/1M/10M synthetic rows beside psql \copy, XGBoost, HistGradientBoosting: table + log-log SVG (SIZES="...")
bench-scale: build $(BUILD)/scale-matrix | $(DB_UP)
	BUILD=$(BUILD) $(if $(SIZES),SIZES="$(SIZES)") scripts/bench-scale.sh

## bench-pipeline: the source zip to a served champion (ingest, clean, train, register, pool ready; monitor and report beside it), wall and CPU per stage, scratch database and port (READMIT_OTHER=binary alternates two builds, BENCH_RUNS=N)
bench-pipeline: build | $(DB_UP)
	BUILD=$(BUILD) scripts/bench-pipeline.sh $(if $(wildcard $(BENCH_DATA)),$(abspath $(BENCH_DATA)))

## bench-train: training quality and speed on the real data (peers too when installed)
bench-train: build | $(DB_UP)
	scripts/bench-train.sh $(DATA)

## bench-serve: HTTP serving throughput and latency with wrk (DATA as make takes it; the pipeline is brought up to date with it first)
# Its data: DATA as the pipeline takes it (given, remembered, data.source),
# or READMIT_REAL_DATA when the config's default is all there is and it is
# absent. With no data at all, the champion is benchmarked as it is, on
# synthetic records, and the script's tables say so.
BENCH_DATA = $(if $(and $(filter data.source%,$(DATA_FROM)),$(READMIT_REAL_DATA),$(if $(wildcard $(DATA)),,absent)),$(READMIT_REAL_DATA),$(DATA))
bench-serve: build | $(DB_UP)
	@$(if $(READMIT_BENCH_MODEL),,$(if $(wildcard $(BENCH_DATA)),$(MAKE) --no-print-directory register DATA=$(abspath $(BENCH_DATA)),echo "bench-serve: no data at $(BENCH_DATA): the champion is benchmarked as it is"))
	BUILD=$(BUILD) scripts/bench-serve.sh $(if $(wildcard $(BENCH_DATA)),$(abspath $(BENCH_DATA)))

## bench-explain: one explained prediction (TreeSHAP) of the default model vs plain scoring
bench-explain: build $(BUILD)/bench-explain | $(DB_UP)
	BUILD=$(BUILD) scripts/bench-explain.sh $(DATA)

## bench-calibration: calibration slope, intercept, ECE (patient-resampled intervals), reliability bins and a Platt check, real data
bench-calibration: build $(BUILD)/bench-explain $(BUILD)/calibration-report | $(DB_UP)
	BUILD=$(BUILD) scripts/bench-calibration.sh $(DATA)

## experiment-history: validation ROC AUC with and without the patient-history features (real data), the difference's patient-resampled interval and the decision
experiment-history: build $(BUILD)/history-experiment | $(DB_UP)
	BUILD=$(BUILD) scripts/experiment-history.sh $(DATA)

## bench-report: time to write the report site for 200 runs
bench-report: build | $(DB_UP)
	scripts/bench-report.sh $(READMIT)

## bench-log: the prediction log's cost: req/s and CPU per request (pool, nginx, PostgreSQL, wrk), log on and off, 32 and 128 connections
bench-log: build | $(DB_UP)
	BUILD=$(BUILD) scripts/bench-log.sh

## bench-monitor: time readmit monitor over 1,000,000 logged predictions (PREDICTIONS=N)
bench-monitor: build | $(DB_UP)
	scripts/bench-monitor.sh $(READMIT) $(or $(PREDICTIONS),1000000)

## serve: start the FastCGI worker pool and nginx (http://127.0.0.1:8080/ by default)
serve: build | $(DB_UP)
	@READMIT_CONFIG=$(CONF) READMIT_FCGI=$(READMIT_FCGI) \
	  READMIT_FCGI_OPTS="$(if $(DBNAME),-o db.name=$(DBNAME)) $(READMIT_FCGI_OPTS)" scripts/serve.sh start

## stop: stop nginx and the worker pool
stop:
	@READMIT_CONFIG=$(CONF) scripts/serve.sh stop
