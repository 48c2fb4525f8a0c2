"""Locust load test of the readmit prediction API. `make bench-locust` runs it
headless next to wrk on the same endpoint (scripts/bench-locust.sh); by hand:

    locust -f locustfile.py --host http://127.0.0.1:8080 \
        --users 32 --spawn-rate 32 --run-time 1m --headless

Request bodies come from READMIT_BODIES (one JSON body per line, as written by
nginx/bench/records.awk; `make bench-serve` leaves them in var/bench/), else a
small built-in record is used. READMIT_LOCUST_TASKS=single sends only
single-record predictions (what `make bench-locust` compares with wrk); the
default mix adds batches of 100 and model metadata requests.
"""
import itertools
import json
import os

from locust import HttpUser, between, task

_DEFAULT = {
    "race": "Caucasian", "gender": "Female", "age": "[70-80)", "admission_type_id": 1,
    "discharge_disposition_id": 1, "admission_source_id": 7, "time_in_hospital": 4,
    "num_lab_procedures": 41, "num_procedures": 1, "num_medications": 15,
    "number_outpatient": 0, "number_emergency": 0, "number_inpatient": 1,
    "diag_1": "428", "diag_2": "250.01", "diag_3": "401", "number_diagnoses": 9,
    "insulin": "Steady", "change": "Ch", "diabetesMed": "Yes",
}


def _bodies():
    path = os.environ.get("READMIT_BODIES", "var/bench/single.jsonl")
    try:
        with open(path, encoding="utf-8") as f:
            lines = [line.strip() for line in f if line.strip()]
    except OSError:
        lines = []
    return lines or [json.dumps(_DEFAULT)]


_CYCLE = itertools.cycle(_bodies())


_SINGLE_ONLY = os.environ.get("READMIT_LOCUST_TASKS", "mix") == "single"


class PredictUser(HttpUser):
    wait_time = between(0, 0)

    @task(20)
    def predict_one(self):
        with self.client.post("/api/v1/predict", data=next(_CYCLE),
                              headers={"Content-Type": "application/json"},
                              catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}: {r.text[:200]}")
            elif "probability" not in r.text:
                r.failure("no probability in the response")

    @task(0 if _SINGLE_ONLY else 1)
    def batch(self):
        body = '{"instances": [' + ",".join(next(_CYCLE) for _ in range(100)) + "]}"
        with self.client.post("/api/v1/predict", data=body, name="/api/v1/predict [100]",
                              headers={"Content-Type": "application/json"},
                              catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")

    @task(0 if _SINGLE_ONLY else 1)
    def model(self):
        self.client.get("/api/v1/model")
