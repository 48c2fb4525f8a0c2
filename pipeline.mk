# pipeline.mk - the readmit DAG: ingest -> clean -> train -> register -> report.
#
# Each stage is a `var/state/<stage>.ran` target that runs `readmit <stage>`
# and a `var/state/<stage>.stamp` that the stage rewrites only when it produced
# something new (a fingerprint of its output). Downstream stages depend on the
# .stamp, so `make` re-runs exactly the stages below a change: a new data
# batch, an edited config section, a rebuilt binary. `make -n` shows the plan.

.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:

CONF ?= conf/readmit.yaml
VAR ?= var
STATE := $(VAR)/state
# Source data: DATA=path on the command line, else READMIT_DATA, else data.source in $(CONF).
CONF_SOURCE := $(shell awk '/^data:/{f=1;next} /^[^ \t#]/{f=0} f && $$1=="source:"{gsub(/"/,"",$$2); print $$2; exit}' $(CONF) 2>/dev/null)
DATA ?= $(or $(READMIT_DATA),$(CONF_SOURCE),data/dataset_diabetes.zip)
BATCHES ?= all
# DBNAME=name selects another database on the private server (tests use this).
RDM_OPTS := -c $(CONF) -o data.source=$(abspath $(DATA)) $(if $(DBNAME),-o db.name=$(DBNAME)) \
            $(if $(REPORT_DIR),-o report.dir=$(abspath $(REPORT_DIR)))
# the model file cache follows VAR
RDM := READMIT_MODEL_CACHE=$(abspath $(VAR))/models $(READMIT)
SECTIONS := data clean features split train registry report monitor
# written by the monitor stage when monitor.retrain_when fires: train and register re-run
RETRAIN := $(wildcard $(STATE)/retrain.stamp)
DB_UP := $(STATE)/db.ok

.PHONY: pipeline ingest clean train register report monitor outcomes replay db-start db-stop db-psql \
        demo data serve stop bench-ingest bench-train bench-serve bench-explain bench-calibration \
        bench-report bench-monitor status

## pipeline: bring every stage up to date (ingest, clean, train, register, report, monitor)
pipeline: $(STATE)/report.ran

$(STATE):
	@mkdir -p $@

# The private PostgreSQL server (or the external one named by PGHOST/DATABASE_URL).
$(DB_UP): scripts/pg.sh | $(DEPS_OK) $(STATE)
	@$(if $(DBNAME),READMIT_DBNAME=$(DBNAME)) scripts/pg.sh start
	@touch $@

# Per-section config stamps: rewritten only when that section's settings change.
$(STATE)/conf.ran: $(CONF) $(READMIT) | $(STATE)
	@touch $@
	@for s in $(SECTIONS); do \
	  $(RDM) config $(RDM_OPTS) --section $$s > $(STATE)/conf-$$s.tmp; \
	  if cmp -s $(STATE)/conf-$$s.tmp $(STATE)/conf-$$s.stamp; then rm $(STATE)/conf-$$s.tmp; \
	  else mv $(STATE)/conf-$$s.tmp $(STATE)/conf-$$s.stamp; echo "config: section $$s changed"; fi; \
	done
$(SECTIONS:%=$(STATE)/conf-%.stamp): $(STATE)/conf.ran ;

## ingest: load new batches of the source (DATA=path, BATCHES=next|all|K)
ingest: $(STATE)/ingest.ran
$(STATE)/ingest.ran: $(READMIT) $(STATE)/conf-data.stamp $(wildcard $(DATA)) | $(DB_UP)
	@test -e "$(DATA)" || { echo "readmit: no source data at '$(DATA)': run 'make data' or pass DATA=path/to/dataset_diabetes.zip" >&2; exit 1; }
	@touch $@
	$(RDM) ingest $(RDM_OPTS) --batches $(BATCHES) --stamp $(STATE)/ingest.stamp
$(STATE)/ingest.stamp: $(STATE)/ingest.ran ;

## clean: type, filter, validate and profile new raw batches
clean: $(STATE)/clean.ran
$(STATE)/clean.ran: $(READMIT) $(STATE)/ingest.stamp $(STATE)/conf-clean.stamp | $(DB_UP)
	@touch $@
	$(RDM) clean $(RDM_OPTS) --stamp $(STATE)/clean.stamp
$(STATE)/clean.stamp: $(STATE)/clean.ran ;

## train: train every configured model on the clean snapshot
train: $(STATE)/train.ran
$(STATE)/train.ran: $(READMIT) $(STATE)/clean.stamp $(STATE)/conf-train.stamp $(STATE)/conf-features.stamp \
                    $(STATE)/conf-split.stamp $(RETRAIN) | $(DB_UP)
	@touch $@
	$(if $(RETRAIN),@echo "train: retrain triggered by the monitor: $$(tail -n 1 $(RETRAIN))")
	$(RDM) train $(RDM_OPTS) --stamp $(STATE)/train.stamp
$(STATE)/train.stamp: $(STATE)/train.ran ;

## register: register the best run; promote it to champion if it passes the gate
register: $(STATE)/register.ran
$(STATE)/register.ran: $(READMIT) $(STATE)/train.stamp $(STATE)/conf-registry.stamp $(RETRAIN) | $(DB_UP)
	@touch $@
	$(RDM) register $(RDM_OPTS) --stamp $(STATE)/register.stamp
$(STATE)/register.stamp: $(STATE)/register.ran ;

## report: write the static HTML reports (reports/index.html)
report: $(STATE)/report.ran
$(STATE)/report.ran: $(READMIT) $(STATE)/register.stamp $(STATE)/clean.stamp $(STATE)/conf-report.stamp \
                     $(STATE)/monitor.stamp | $(DB_UP)
	@touch $@
	$(RDM) report $(RDM_OPTS) --stamp $(STATE)/report.stamp

## monitor: outcomes from new batches, drift, live and estimated performance, retrain trigger (runs every time)
monitor: $(READMIT) | $(DB_UP) $(STATE)
	@touch $(STATE)/monitor.ran
	$(RDM) monitor $(RDM_OPTS) --stamp $(STATE)/monitor.stamp --retrain-stamp $(STATE)/retrain.stamp
# in the DAG: after register, again when a batch arrives, the config changes or new traffic
# or outcomes are recorded (make outcomes / make replay touch traffic.stamp)
$(STATE)/monitor.ran: $(READMIT) $(STATE)/register.stamp $(STATE)/ingest.stamp \
                      $(STATE)/conf-monitor.stamp $(wildcard $(STATE)/traffic.stamp) | $(DB_UP)
	@touch $@
	$(RDM) monitor $(RDM_OPTS) -q --stamp $(STATE)/monitor.stamp --retrain-stamp $(STATE)/retrain.stamp
$(STATE)/monitor.stamp: $(STATE)/monitor.ran ;

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

## status: batches, row counts, validation, runs and model versions
status: $(READMIT) | $(DB_UP)
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

## bench-train: training quality and speed on the real data (peers too when installed)
bench-train: build | $(DB_UP)
	scripts/bench-train.sh $(DATA)

## bench-serve: HTTP serving throughput and latency with wrk
bench-serve: build | $(DB_UP)
	BUILD=$(BUILD) scripts/bench-serve.sh

## bench-explain: one explained prediction (TreeSHAP) of the default model vs plain scoring
bench-explain: build $(BUILD)/bench-explain | $(DB_UP)
	BUILD=$(BUILD) scripts/bench-explain.sh $(DATA)

## bench-calibration: calibration slope, intercept, ECE (patient-resampled intervals), reliability bins and a Platt check, real data
bench-calibration: build $(BUILD)/bench-explain $(BUILD)/calibration-report | $(DB_UP)
	BUILD=$(BUILD) scripts/bench-calibration.sh $(DATA)

## bench-report: time to write the report site for 200 runs
bench-report: build | $(DB_UP)
	scripts/bench-report.sh $(READMIT)

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
