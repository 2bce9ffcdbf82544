"""Explain tree-model rows where serve-batch and the pandas + scikit-learn peer differ beyond 1e-4.

ONNX's TreeEnsemble operators store split thresholds as float32; scikit-learn compares against float64
thresholds. A row whose feature lies between the two roundings of a threshold takes the other branch in one
tree. For each such row this re-scores the scikit-learn model with its thresholds rounded to float32 (what
the .onnx file holds) and checks that serve-batch's values equal that within 1e-4.

usage: float32_thresholds.py MODEL.pkl INPUT.csv OURS.csv PEER.csv
prints one JSON line: {"differing": N, "explained": M, "rows": [...]}"""
import json, pickle, sys
import numpy as np
import pandas as pd

model_pkl, data, ours, peer = sys.argv[1:5]
a = pd.read_csv(ours)
b = pd.read_csv(peer)
labelled = "label" in b.columns
av = a.iloc[:, 2 if labelled else 1:].to_numpy(dtype="float64")
bv = b.iloc[:, 2 if labelled else 1:].to_numpy(dtype="float64")
rel = np.abs(av - bv) / np.maximum(1, np.abs(bv))
bad = np.where(rel.max(axis=1) > 1e-4)[0]
explained = 0
if len(bad) > 0:
    model = pickle.load(open(model_pkl, "rb"))
    estimators = np.asarray(model.estimators_).ravel()
    for est in estimators:
        t = est.tree_.threshold
        t[:] = t.astype(np.float32).astype(np.float64)
    wanted = set(int(i) for i in bad)
    df = pd.read_csv(data, skiprows=lambda i: i > 0 and (i - 1) not in wanted)
    X = df[[f"f{i}" for i in range(30)]].to_numpy(dtype="float32")
    P = model.predict_proba(X) if hasattr(model, "predict_proba") else model.predict(X).reshape(-1, 1)
    err = np.abs(av[bad] - P) / np.maximum(1, np.abs(P))
    explained = int((err.max(axis=1) <= 1e-4).sum())
print(json.dumps({"differing": int(len(bad)), "explained": explained, "rows": [int(i) for i in bad[:20]]}))
