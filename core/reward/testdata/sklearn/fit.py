"""Bradley–Terry as logistic regression with scikit-learn's lbfgs, on the hashed
features Prefer trained on (written by BenchmarkLinearVsSklearn in core/reward).

Input (argv[1]): a text file. Line 1: "F n_train n_held". Then one line per decided
pair, "split i:v i:v ...", split 0 = train, 2 = held out; the features are
φ(chosen) − φ(rejected) (index:value, sparse). A pair is a logistic-regression
example of label 1; every other training pair is negated to label 0 so both classes
are present (the model has no intercept, so this changes nothing but the solver's
input). Prints one JSON object: fit time in seconds (the fit only, as measured by
time.perf_counter around LogisticRegression.fit), iterations, held-out accuracy
(the fraction of held-out pairs with w·x > 0), and the settings.
"""
import json
import sys
import time

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression


def read(path):
    with open(path) as f:
        F, n_train, n_held = map(int, f.readline().split())
        rows = {0: ([], [], []), 2: ([], [], [])}
        for line in f:
            parts = line.split()
            split = int(parts[0])
            data, ind, ptr = rows[split]
            if not ptr:
                ptr.append(0)
            for p in parts[1:]:
                i, v = p.split(":")
                ind.append(int(i))
                data.append(float(v))
            ptr.append(len(ind))
    mats = {}
    for split, (data, ind, ptr) in rows.items():
        mats[split] = sp.csr_matrix((np.array(data), np.array(ind), np.array(ptr)), shape=(len(ptr) - 1, F))
    return mats[0], mats[2]


def main():
    train, held = read(sys.argv[1])
    C = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    sign = np.where(np.arange(train.shape[0]) % 2 == 0, 1.0, -1.0)
    X = sp.diags(sign) @ train
    y = (sign > 0).astype(int)
    clf = LogisticRegression(solver="lbfgs", C=C, fit_intercept=False, max_iter=1000, tol=1e-4)
    t0, c0 = time.perf_counter(), time.process_time()
    clf.fit(X, y)
    fit, cpu = time.perf_counter() - t0, time.process_time() - c0
    acc = float(np.mean(held @ clf.coef_[0] > 0))
    print(json.dumps({"fit_s": fit, "fit_cpu_s": cpu, "iterations": int(clf.n_iter_[0]), "held_acc": acc,
                      "C": C, "n_train": train.shape[0], "n_held": held.shape[0], "features": train.shape[1]}))


main()
