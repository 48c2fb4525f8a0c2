#!/usr/bin/env python3
"""bench-gbt-peers.py - fit the peer boosters (scikit-learn HistGradientBoosting, XGBoost hist)
on the readmission task and print their figures, for side-by-side comparison with readmit's own
gradient-boosted trees. Benchmark only: the project never depends on these packages.

Input: the RAW source CSV (diabetic_data.csv) or the source zip (dataset_diabetes.zip). The
script applies the task definition of docs (drop expired/hospice discharges, target
readmitted == "<30", split by patient_nbr mod 100: <70 train, <85 validation, else test) and
encodes the features the way readmit's boosted trees see them:
  - numeric columns as numbers;
  - categorical columns as integer codes (levels ordered by training frequency, levels seen
    fewer than --min-count times in training -> "other", "?" -> missing/NaN; the string "None"
    in max_glu_serum and A1Cresult is a level, not missing);
  - diag_1..3 as a frequency-rank number (rare codes share one rank) plus the ICD-9 chapter as
    a categorical.
Encoders are fitted on the training split only.

--dump-matrix PATH writes the encoded matrix as CSV (columns: split, y, then one per feature;
categorical feature names end with ":c<levels>"; empty = missing) so that other programs can
fit on exactly the same data.

--ours CMD times another booster in the same run, on the same matrix: CMD is a shell command in
which {matrix} is replaced by the path of the dumped matrix and {threads} by the thread count;
{learning_rate} by --learning-rate; it prints "key value" pairs on its standard output, of which
"fit" (seconds, an "s" suffix is allowed) is required and "val_auc", "test_auc", "test_ap",
"test_ll", "trees", "learning_rate" are shown when present (the table's lr column is the rate
each booster reports having used, so a command that ignores {learning_rate} shows as such). --repeat N fits every booster N times, interleaved (ours, scikit-learn, XGBoost, then
again), and reports the fastest fit of each and the ratios to ours, so that a machine busy with
other work affects all of them alike.

Exits 0 with a "skipped" line when scikit-learn / XGBoost are not installed.

--learning-rate R (default 0.1) is every booster's shrinkage (HistGradientBoosting
learning_rate, XGBoost eta, {learning_rate} for --ours), so that fit times and AUCs compare
like with like.

usage: scripts/bench-gbt-peers.py [--threads N] [--dump-matrix PATH] [--min-count K]
                                  [--ours CMD] [--repeat N] [--learning-rate R] DATA
"""
import argparse
import csv
import io
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile

NUMERIC = ["time_in_hospital", "num_lab_procedures", "num_procedures", "num_medications",
           "number_outpatient", "number_emergency", "number_inpatient", "number_diagnoses"]
DRUGS = ["metformin", "repaglinide", "nateglinide", "chlorpropamide", "glimepiride",
         "acetohexamide", "glipizide", "glyburide", "tolbutamide", "pioglitazone",
         "rosiglitazone", "acarbose", "miglitol", "troglitazone", "tolazamide", "examide",
         "citoglipton", "insulin", "glyburide-metformin", "glipizide-metformin",
         "glimepiride-pioglitazone", "metformin-rosiglitazone", "metformin-pioglitazone"]
CATEGORICAL = ["race", "gender", "age", "weight", "admission_type_id",
               "discharge_disposition_id", "admission_source_id", "payer_code",
               "medical_specialty", "max_glu_serum", "A1Cresult"] + DRUGS + ["change",
                                                                           "diabetesMed"]
DIAGS = ["diag_1", "diag_2", "diag_3"]
DROP_DISPOSITION = {"11", "13", "14", "19", "20", "21"}


def icd9_chapter(code):
    if code == "?" or code == "":
        return None
    if code[0] in "Vv":
        return "supplementary"
    if code[0] in "Ee":
        return "external"
    try:
        c = int(float(code))
    except ValueError:
        return "other"
    for lo, hi, name in [(250, 250, "diabetes"), (390, 459, "circulatory"),
                         (785, 785, "circulatory"), (460, 519, "respiratory"),
                         (786, 786, "respiratory"), (520, 579, "digestive"),
                         (787, 787, "digestive"), (800, 999, "injury"),
                         (710, 739, "musculoskeletal"), (580, 629, "genitourinary"),
                         (788, 788, "genitourinary"), (140, 239, "neoplasms"),
                         (1, 139, "infectious"), (240, 279, "endocrine"), (280, 289, "blood"),
                         (290, 319, "mental"), (320, 389, "nervous"), (680, 709, "skin"),
                         (740, 759, "congenital"), (630, 679, "pregnancy"),
                         (780, 799, "symptoms")]:
        if lo <= c <= hi:
            return name
    return "other"


def read_rows(path):
    if path.endswith(".zip"):
        with zipfile.ZipFile(path) as z:
            name = [n for n in z.namelist() if n.endswith("diabetic_data.csv")][0]
            text = z.read(name).decode("utf-8")
        return list(csv.DictReader(io.StringIO(text)))
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def encode(rows, min_count):
    rows = [r for r in rows if r["discharge_disposition_id"] not in DROP_DISPOSITION]
    split = []
    for r in rows:
        k = int(r["patient_nbr"]) % 100
        split.append(0 if k < 70 else (1 if k < 85 else 2))
    y = [1.0 if r["readmitted"] == "<30" else 0.0 for r in rows]
    train = [r for r, s in zip(rows, split) if s == 0]
    names, cols = [], []
    nan = float("nan")

    def vocab(values):
        counts = {}
        for v in values:
            if v is not None:
                counts[v] = counts.get(v, 0) + 1
        keep = sorted([v for v, c in counts.items() if c >= min_count],
                      key=lambda v: (-counts[v], v))
        rare = any(c < min_count for c in counts.values())
        return {v: i for i, v in enumerate(keep)}, rare

    def cat_column(name, getter):
        codes, rare = vocab([getter(r) for r in train])
        other = len(codes) if rare else None
        k = len(codes) + (1 if rare else 0)
        col = []
        for r in rows:
            v = getter(r)
            if v is None:
                col.append(nan)
            elif v in codes:
                col.append(float(codes[v]))
            else:
                col.append(float(other) if other is not None else nan)
        names.append("%s:c%d" % (name, max(k, 1)))
        cols.append(col)

    for name in NUMERIC:
        names.append(name)
        cols.append([float(r[name]) if r[name] not in ("?", "") else nan for r in rows])
    for name in CATEGORICAL:
        cat_column(name, lambda r, n=name: None if r[n] in ("?", "") else r[n])
    for name in DIAGS:
        counts = {}
        for r in train:
            if r[name] != "?":
                counts[r[name]] = counts.get(r[name], 0) + 1
        ranked = sorted([c for c, n in counts.items() if n >= min_count],
                        key=lambda c: (-counts[c], c))
        rank = {c: i for i, c in enumerate(ranked)}
        names.append(name + "_rank")
        cols.append([nan if r[name] == "?" else float(rank.get(r[name], len(ranked)))
                     for r in rows])
        cat_column(name + "_chapter", lambda r, n=name: icd9_chapter(r[n]))
    return names, cols, y, split


def dump_matrix(path, names, cols, y, split):
    with open(path, "w") as f:
        f.write("split,y," + ",".join(names) + "\n")
        for i in range(len(y)):
            vals = ["" if math.isnan(c[i]) else repr(c[i]) for c in cols]
            f.write("%d,%d,%s\n" % (split[i], int(y[i]), ",".join(vals)))


def metrics(y, p):
    from sklearn.metrics import average_precision_score, log_loss, roc_auc_score
    return roc_auc_score(y, p), average_precision_score(y, p), log_loss(y, p)


def run_ours(cmd, matrix, threads, learning_rate):
    """Run the --ours command; returns a dict of its "key value" figures."""
    line = cmd.replace("{matrix}", matrix).replace("{threads}", str(threads)).replace(
        "{learning_rate}", repr(learning_rate))
    out = subprocess.run(line, shell=True, check=True, stdout=subprocess.PIPE,
                         universal_newlines=True).stdout
    got = {}
    for key, val in re.findall(r"\b([a-z_]+)[ =]([0-9]+(?:\.[0-9]*)?)s?\b", out):
        got.setdefault(key, float(val))
    if "fit" not in got:
        raise RuntimeError("--ours: no 'fit SECONDS' in the output of: " + line)
    return got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--min-count", type=int, default=30)
    ap.add_argument("--dump-matrix")
    ap.add_argument("--ours", help="command timing another booster on {matrix} with {threads}")
    ap.add_argument("--repeat", type=int, default=1, help="fits per booster (fastest shown)")
    ap.add_argument("--learning-rate", type=float, default=0.1, help="every booster's shrinkage")
    a = ap.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(a.threads)
    names, cols, y, split = encode(read_rows(a.data), a.min_count)
    tmpdir = None
    matrix = a.dump_matrix
    if a.ours and not matrix:
        tmpdir = tempfile.TemporaryDirectory(prefix="bench-gbt-peers.")
        matrix = os.path.join(tmpdir.name, "matrix.csv")
    if matrix:
        dump_matrix(matrix, names, cols, y, split)
    try:
        import numpy as np
        from sklearn.ensemble import HistGradientBoostingClassifier
    except ImportError:
        # Debian's python3-sklearn lives under the system interpreter; another python3 may
        # come first on PATH.
        if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and \
                os.path.exists("/usr/bin/python3"):
            os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
        print("bench-gbt-peers: skipped (python3-sklearn not installed)")
        return 0
    try:
        import xgboost as xgb
    except ImportError:
        xgb = None
    X = np.array(cols, dtype=np.float32).T
    y = np.array(y)
    split = np.array(split)
    iscat = np.array([":c" in n for n in names])
    tr, va, te = (split == 0), (split == 1), (split == 2)
    print("rows: train %d valid %d test %d, features %d (%d categorical), threads %d, "
          "fits per booster %d, learning rate %g" % (tr.sum(), va.sum(), te.sum(), X.shape[1],
                                                     iscat.sum(), a.threads, a.repeat,
                                                     a.learning_rate))

    def fit_hgb():
        t0 = time.perf_counter()
        hgb = HistGradientBoostingClassifier(learning_rate=a.learning_rate, max_iter=500,
                                             categorical_features=iscat, early_stopping=True,
                                             random_state=0)
        hgb.fit(X[tr], y[tr])
        fit = time.perf_counter() - t0
        pv, pt = hgb.predict_proba(X[va])[:, 1], hgb.predict_proba(X[te])[:, 1]
        auc_t, ap_t, ll_t = metrics(y[te], pt)
        return [metrics(y[va], pv)[0], auc_t, ap_t, ll_t, fit, hgb.n_iter_,
                hgb.get_params()["learning_rate"]]

    def fit_xgb():
        ft = ["c" if c else "q" for c in iscat]
        t0 = time.perf_counter()
        dtr = xgb.DMatrix(X[tr], label=y[tr], feature_types=ft, enable_categorical=True,
                          nthread=a.threads)
        dva = xgb.DMatrix(X[va], label=y[va], feature_types=ft, enable_categorical=True,
                          nthread=a.threads)
        params = {"objective": "binary:logistic", "eval_metric": "logloss",
                  "tree_method": "hist", "max_depth": 6, "eta": a.learning_rate,
                  "nthread": a.threads,
                  "seed": 0, "max_cat_to_onehot": 1}
        bst = xgb.train(params, dtr, num_boost_round=1000, evals=[(dva, "valid")],
                        early_stopping_rounds=20, verbose_eval=False)
        fit = time.perf_counter() - t0
        dte = xgb.DMatrix(X[te], feature_types=ft, enable_categorical=True, nthread=a.threads)
        rng = (0, bst.best_iteration + 1)
        pv, pt = bst.predict(dva, iteration_range=rng), bst.predict(dte, iteration_range=rng)
        auc_t, ap_t, ll_t = metrics(y[te], pt)
        return [metrics(y[va], pv)[0], auc_t, ap_t, ll_t, fit, bst.best_iteration + 1,
                params["eta"]]

    def fit_ours():
        g = run_ours(a.ours, matrix, a.threads, a.learning_rate)
        nan = float("nan")
        return [g.get("val_auc", nan), g.get("test_auc", nan), g.get("test_ap", nan),
                g.get("test_ll", nan), g["fit"], int(g.get("trees", g.get("iters", 0))),
                g.get("learning_rate", nan)]

    boosters = []
    if a.ours:
        boosters.append(("ours (--ours)", fit_ours))
    boosters.append(("sklearn HistGradientBoosting", fit_hgb))
    if xgb is not None:
        boosters.append(("XGBoost hist (depth 6)", fit_xgb))
    best = {}
    for _ in range(max(1, a.repeat)):
        for name, fn in boosters:
            r = fn()
            if name not in best or r[4] < best[name][4]:
                best[name] = r
    print("%-28s %8s %8s %8s %8s %8s %6s %6s" % ("booster", "val_auc", "test_auc", "test_ap",
                                                 "test_ll", "fit_s", "iters", "lr"))
    for name, _ in boosters:
        print("%-28s %8.4f %8.4f %8.4f %8.4f %8.2f %6d %6g" % tuple([name] + best[name]))
    if a.ours:
        ours = best["ours (--ours)"][4]
        for name, _ in boosters[1:]:
            print("fit time %s / ours: %.2fx" % (name, best[name][4] / ours if ours > 0
                                                  else float("inf")))
    if xgb is None:
        print("bench-gbt-peers: XGBoost skipped (python3-xgboost not installed)")
    if tmpdir:
        tmpdir.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
