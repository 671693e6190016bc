#!/usr/bin/env python3
"""Turns the report.json files under a folder into one Markdown table: test accuracy (95% CI)
of every arm per variant and shot setting, and GTL's paired difference to plain fine-tuning."""
import json, os, sys

root = sys.argv[1]
rows = []
for name in sorted(os.listdir(root)):
    path = os.path.join(root, name, "report.json")
    if not os.path.isfile(path):
        continue
    with open(path) as f:
        rep = json.load(f)
    for shots in sorted({r["shots"] for r in rep["results"]}):
        arms = {r["arm"]: r for r in rep["results"] if r["shots"] == shots}
        def acc(a):
            r = arms.get(a)
            if r is None:
                return "-"
            edge = "*" if r.get("atGridEdge") else ""
            return f'{100*r["test"]["mean"]:.1f} ± {100*r["test"]["ci95"]:.1f}{edge}'
        def diff(a):
            r = arms.get(a)
            d = r and r.get("differenceToFinetune")
            return "-" if not d else f'{100*d["mean"]:+.1f} ± {100*d["ci95"]:.1f}'
        ways = rep["job"]["evaluation"]["ways"]
        rows.append((name, f"{ways}w{shots}s", acc("scratch"), acc("finetune"), acc("gtl"), acc("gtl-mean1"),
                     acc("last-layer"), diff("gtl"), diff("gtl-mean1")))
print("(* = the arm's chosen step count or learning rate is at an end of its grid)\n")
print("| variant | episodes | scratch | fine-tune | GTL | GTL mean-1 | last layer | GTL − fine-tune | GTL mean-1 − fine-tune |")
print("|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
