#!/usr/bin/env python3
"""Turns Bioconductor's ALL leukaemia microarray set into CSV files that `gtl --dataset csv:PATH` loads.

Usage: genes.py ALL_PACKAGE_DIR OUT_DIR [--genes G] [--source TEXT] [--copyright FILE]

ALL_PACKAGE_DIR is the installed R package folder (usr/lib/R/site-library/ALL) of Debian's
r-bioc-all package, unpacked from its .deb. Its data/ALL.rda holds Bioconductor's `ALL` experiment
data (Chiaretti et al. 2004/2005: 12,625 Affymetrix HG-U95Av2 probe sets x 128 adult acute
lymphoblastic leukaemia patients, already RMA-normalised, i.e. log2 scale) as an R ExpressionSet.
R is not needed: PyPI's `rdata` *parser* reads the serialised objects, and the two pieces used here
(the `exprs` matrix in `assayData` and the `phenoData` data frame) are picked out of the parsed
tree. (Checked once against R 4.2.2 + Biobase: exprs identical to 1e-13, BT/mol.biol/sex/age equal.)
(rdata's high-level `read_rda` fails on this file, on an R promise object; the parser does not.)

Preprocessing, identical for every labelling and using no label:
  1. the values are already log2 (RMA), so no log transform is applied (a check fails loudly if
     they ever look like raw counts, max > 100);
  2. the G probe sets (default 2,000) with the largest variance over all 128 arrays are kept, in
     their original probe order (ties broken by probe order);
  3. each kept probe set is z-scored (mean 0, population SD 1) over all 128 arrays.
Then, per labelling, the samples of the listed classes are written, one per line: G features
(4 decimals) and the class index last. Samples of groups too small to be useful are left out.

Every file is written to a temporary name in OUT_DIR and renamed into place, the CSV last, so a
present CSV means a complete set; OUT_DIR/study.json, written after all sets, holds the recommended
flags ({"flags": "--dataset csv:... --pretrain-classes ..."}) for scripts/studies' `genes` study. Gzip output has a zero timestamp: same input, same bytes.
"""
from __future__ import annotations

import argparse
import gzip
import io
import json
import math
import os
import sys
import tempfile
from collections import Counter

import numpy as np

try:
    from rdata.parser import RObjectType as T, parse_file
except ImportError as e:  # pragma: no cover - depends on the environment
    sys.exit(f"error: genes.py needs PyPI's rdata package ({e}); scripts/fetch-data.sh genes installs it")


def fail(msg: str) -> None:
    sys.exit(f"error: {msg}")


# --- reading the parsed R object tree -----------------------------------------------------------

def _sym(tag):
    """Name of a tag (a symbol, possibly given as a reference to an earlier one)."""
    if tag is None:
        return None
    if tag.info.type == T.REF:
        tag = tag.referenced_object
    return tag.value.value.decode() if tag.info.type == T.SYM else None


def _pairlist(obj) -> dict:
    """A pairlist (R's LISTSXP) as {tag: value}."""
    out = {}
    while obj is not None and obj.info.type == T.LIST:
        out[_sym(obj.tag)] = obj.value[0]
        obj = obj.value[1]
    return out


def attrs(obj) -> dict:
    return _pairlist(obj.attributes) if obj.attributes is not None else {}


def strings(obj) -> list:
    if obj.info.type != T.STR:
        fail(f"expected an R character vector, found {obj.info.type.name}")
    return [None if c.value is None else c.value.decode("utf-8", "replace") for c in obj.value]


def data_frame(obj, what: str) -> dict:
    """An R data.frame as {column: list}; factors become their level strings, NA becomes None."""
    a = attrs(obj)
    if obj.info.type != T.VEC or "names" not in a:
        fail(f"{what} is not an R data frame")
    cols = {}
    for name, col in zip(strings(a["names"]), obj.value):
        ca = attrs(col)
        values = col.value.tolist() if hasattr(col.value, "tolist") else list(col.value)
        if "levels" in ca:
            levels = strings(ca["levels"])
            values = [None if v is None else levels[v - 1] for v in values]
        elif col.info.type == T.STR:
            values = strings(col)
        cols[name] = values
    return cols


def read_all(path: str):
    """(probe names, sample names, matrix samples x probes as float64, phenotype columns)."""
    try:
        parsed = parse_file(path)
    except Exception as e:  # noqa: BLE001 - any parse failure is fatal, with the file named
        fail(f"{path}: rdata could not parse it: {e}")
    top = _pairlist(parsed.object)
    if "ALL" not in top:
        fail(f"{path}: no object named ALL (found {sorted(k for k in top if k)})")
    eset = top["ALL"]
    slots = attrs(eset)
    if "assayData" not in slots or "phenoData" not in slots:
        fail(f"{path}: ALL is not an ExpressionSet (slots {sorted(k for k in slots if k)})")
    env = slots["assayData"]
    if env.info.type != T.ENV:
        fail(f"{path}: ALL@assayData is {env.info.type.name}, expected an environment")
    frame = _pairlist(env.value.frame)
    if env.value.hash_table is not None and env.value.hash_table.info.type == T.VEC:
        for bucket in env.value.hash_table.value:  # hashed environments keep their bindings here
            frame.update(_pairlist(bucket))
    if "exprs" not in frame:
        fail(f"{path}: ALL@assayData has no exprs matrix (found {sorted(k for k in frame if k)})")
    ex = frame["exprs"]
    ea = attrs(ex)
    if ex.info.type != T.REAL or "dim" not in ea:
        fail(f"{path}: exprs is not a numeric matrix")
    rows, cols = (int(v) for v in ea["dim"].value)
    probes, samples = (strings(d) for d in ea["dimnames"].value)
    # R stores matrices column-major: one column per sample, so reshape to (samples, probes).
    values = np.ma.filled(np.ma.asarray(ex.value, dtype=np.float64), np.nan)
    x = values.reshape(cols, rows)
    pheno = data_frame(attrs(slots["phenoData"])["data"], "ALL@phenoData@data")
    pheno_samples = strings(attrs(attrs(slots["phenoData"])["data"])["row.names"])
    if pheno_samples != samples:
        fail(f"{path}: phenoData rows do not match the exprs columns")
    return probes, samples, x, pheno


# --- labellings ---------------------------------------------------------------------------------

def _bt(p, i):
    """phenoData column BT: B1..B4 are B-lineage and T2, T3 T-lineage immunophenotype stages."""
    return p["BT"][i]


def _subtype(p, i):
    """B-lineage: stage (BT) / molecular class (mol.biol: NEG, BCR/ABL, ALL1/AF4, ...); T-lineage: stage (BT)."""
    bt, mol = p["BT"][i], p["mol.biol"][i]
    if bt is None or mol is None:
        return None
    return bt if bt.startswith("T") else f"{bt}/{mol}"


# Each labelling: file name, title, the sample -> group function, the ordered class list (class
# index = position; samples of any other group are left out) and suggested gtl splits. A split's
# shots + queries must fit the smallest downstream class's validation pool (gtl puts
# round(0.4 * n) of a downstream class's n samples there); main() checks that.
LABELLINGS = [
    {
        "name": "all-subtype",
        "title": "ALL leukaemia, B-lineage stage x molecular class, and T-lineage stage",
        "group": _subtype,
        "classes": ["B1/NEG", "B1/ALL1/AF4", "B3/BCR/ABL", "B4/BCR/ABL", "T3",
                    "B2/NEG", "B2/BCR/ABL", "B3/NEG", "T2"],
        "splits": [
            {"pretrain": [0, 4], "downstream": [5, 8], "shots": "1,2", "queries": 4,
             "note": "recommended: both lineages and both molecular classes (NEG, BCR/ABL) occur in "
                     "pre-training, in other stage groups than the 4 downstream classes"},
        ],
    },
    {
        "name": "all-bt",
        "title": "ALL leukaemia, immunophenotype stage (BT) only",
        "group": _bt,
        "classes": ["B1", "B2", "B3", "B4", "T2", "T3"],
        "splits": [
            {"pretrain": [3, 5], "downstream": [0, 2], "shots": "1,5", "queries": 3,
             "note": "recommended: 3-way B1/B2/B3 downstream after pre-training on B4, T2, T3"},
            {"pretrain": [0, 3], "downstream": [4, 5], "shots": "1", "queries": 3,
             "note": "lineage transfer: pre-train on the B stages, 2-way T2 vs T3 downstream (10 T3 samples: tight)"},
        ],
    },
]


# The split written to study.json, where scripts/studies (the `genes` study) looks for its flags.
STUDY = ("all-subtype", 0)


def validation_pool(n: int) -> int:
    """Samples gtl puts in a downstream class's validation pool (the smaller one): Swift's
    `(Double(n) * 0.4).rounded()`, which rounds halves away from zero."""
    return int(math.floor(n * 0.4 + 0.5))


def split_flags(path: str, split: dict) -> str:
    (p0, p1), (d0, d1) = split["pretrain"], split["downstream"]
    return (f"--dataset csv:{path} --pretrain-classes {p0}-{p1} --downstream-classes {d0}-{d1} "
            f"--ways {d1 - d0 + 1} --shots {split['shots']} --queries {split['queries']}")


# --- writing ------------------------------------------------------------------------------------

def atomic_write(path: str, data: bytes) -> None:
    d = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def csv_bytes(z: np.ndarray, labels: list[int]) -> bytes:
    out = io.StringIO()
    for row, label in zip(z, labels):
        out.write(",".join(f"{v:.4f}" for v in row))
        out.write(f",{label}\n")
    raw = out.getvalue().replace("-0.0000", "0.0000").encode("ascii")
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0, filename="") as g:
        g.write(raw)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("package", help="the R package folder ALL (with DESCRIPTION and data/ALL.rda)")
    ap.add_argument("out", help="output folder")
    ap.add_argument("--genes", type=int, default=2000, help="most variable probe sets to keep (default 2000)")
    ap.add_argument("--source", default="Debian package r-bioc-all", help="provenance line for the README")
    ap.add_argument("--copyright", help="the package's copyright file, quoted in the README")
    args = ap.parse_args()

    rda = os.path.join(args.package, "data", "ALL.rda")
    desc_path = os.path.join(args.package, "DESCRIPTION")
    for f in (rda, desc_path):
        if not os.path.isfile(f):
            fail(f"{f} is missing: {args.package} is not the ALL package folder of r-bioc-all")
    desc = {}
    with open(desc_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if ":" in line and not line[0].isspace():
                k, v = line.split(":", 1)
                desc[k.strip()] = v.strip()
    probes, samples, x, pheno = read_all(rda)
    n, p = x.shape
    if not np.isfinite(x).all():
        fail(f"{rda}: exprs has {int((~np.isfinite(x)).sum())} missing or non-finite values")
    if x.max() > 100:
        fail(f"{rda}: exprs max is {x.max():.1f}: not log2-scale RMA values as expected")
    if not 1 <= args.genes <= p:
        fail(f"--genes must be between 1 and {p}, got {args.genes}")

    var = x.var(axis=0)
    keep = np.sort(np.argsort(-var, kind="stable")[: args.genes])
    xs = x[:, keep]
    mean, sd = xs.mean(axis=0), xs.std(axis=0)
    if (sd <= 0).any():
        fail("a kept probe set has zero variance")
    z = (xs - mean) / sd

    args.out = os.path.abspath(args.out)  # the README's --dataset specs must work from anywhere
    os.makedirs(args.out, exist_ok=True)
    licence = ""
    if args.copyright:
        with open(args.copyright, encoding="utf-8", errors="replace") as f:
            licence = f.read()

    for lab in LABELLINGS:
        groups = [lab["group"](pheno, i) for i in range(n)]
        index = {c: k for k, c in enumerate(lab["classes"])}
        rows = [i for i in range(n) if groups[i] in index]
        labels = [index[groups[i]] for i in rows]
        counts = Counter(labels)
        dropped = Counter(str(groups[i]) for i in range(n) if groups[i] not in index)
        name = lab["name"]
        base = os.path.join(args.out, name)
        csv_path = base + ".csv.gz"

        split_text = []
        for sp in lab["splits"]:
            pre = range(sp["pretrain"][0], sp["pretrain"][1] + 1)
            down = range(sp["downstream"][0], sp["downstream"][1] + 1)
            pool = min(validation_pool(counts[k]) for k in down)
            need = max(int(v) for v in sp["shots"].split(",")) + sp["queries"]
            if need > pool:
                fail(f"{name}: split {sp} needs {need} samples per class, a validation pool has {pool}")
            split_text.append(
                f"  # {sp['note']}\n"
                f"  # pre-training: {sum(counts[k] for k in pre)} samples in {len(pre)} classes; smallest "
                f"downstream validation pool: {pool} samples\n"
                f"  {split_flags(csv_path, sp)}\n")

        classes_txt = "".join(f"{k}\t{c}\t{counts[k]}\n" for k, c in enumerate(lab["classes"]))
        class_lines = "".join(f"  {k}  {c:<12} {counts[k]}\n" for k, c in enumerate(lab["classes"]))
        left_out = ", ".join(f"{g}: {c}" for g, c in sorted(dropped.items())) or "none"
        readme = f"""{name}: {lab['title']}

Source: {args.source}.
Data: Bioconductor experiment-data package ALL {desc.get('Version', '?')} (author Xiaochun Li), the data of
Chiaretti S et al., "Gene expression profile of adult T-cell acute lymphocytic leukemia identifies
distinct subsets of patients with different response to therapy and survival", Blood
103(7):2771-8, 2004, and Chiaretti S et al., "Gene expression profiles of B-lineage adult acute
lymphocytic leukemia reveal genetic patterns that identify lineage derivation and distinct
mechanisms of transformation", Clin Cancer Res 11(20):7209-19, 2005 (PubMed 14684422,
16243790). Affymetrix HG-U95Av2 arrays, RMA-normalised (log2): {p} probe sets x {n} patients.
Licence: {desc.get('License', 'unknown')} (the ALL package's DESCRIPTION); Debian's copyright file is
quoted at the end.

Preprocessing (scripts/data/genes.py; no label is used):
  - the values are already log2 (RMA), so no further log transform;
  - the {args.genes} probe sets with the largest variance over all {n} arrays are kept, in the
    package's probe order;
  - each kept probe set is z-scored (mean 0, population SD 1) over all {n} arrays;
  - one line per sample of the classes below, in the package's sample order: {args.genes} features
    (4 decimals), then the class index. No header, gzip.

Labelling: {lab['group'].__doc__}
Classes (index, name, samples; also {name}.classes.txt, tab-separated):
{class_lines}Left out (group: samples): {left_out}
{len(rows)} samples written.

Suggested gtl flags (gtl puts round(0.4 n) of a downstream class's n samples in its validation
pool; the largest shots + queries fits the smallest pool):
{''.join(split_text)}
---- Debian copyright file of the source package ----
{licence}"""
        atomic_write(base + ".classes.txt", classes_txt.encode())
        atomic_write(base + ".README", readme.encode())
        atomic_write(csv_path, csv_bytes(z[rows], labels))  # last: its presence means the set is complete
        print(f"{name}: {len(rows)} samples x {args.genes} genes, {len(lab['classes'])} classes -> {csv_path}")
        if name == STUDY[0]:
            study = {"flags": split_flags(csv_path, lab["splits"][STUDY[1]]), "labelling": name,
                     "readme": base + ".README"}

    # Last of all: a present study.json means every set above is complete.
    atomic_write(os.path.join(args.out, "study.json"), (json.dumps(study, indent=2) + "\n").encode())


if __name__ == "__main__":
    main()
