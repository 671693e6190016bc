"""The project's studies: each is a list of variants (a name and `gtl run` job flags) run once
per seed. Standard library only.

Baseline sharing: a variant with `shares_baseline` changes only scouting or guide flags, so its
base (pre-training) and its episodes are those of the study's `default` variant of the same
seed. It runs only the guided arms (`--arms gtl,gtl-mean1`); the aggregator takes scratch,
finetune and last-layer from the default variant's report and checks that the two jobs agree on
everything that determines the base and the episodes (aggregate.check_baseline_compatible).
Variants that change the base (objective, pre-training, dataset, layers) run every arm.
"""
from __future__ import annotations

import glob
import json
import os
import shlex
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

ARMS = ["scratch", "finetune", "gtl", "gtl-mean1", "last-layer"]
GUIDED_ARMS = ["gtl", "gtl-mean1"]
OTHER_ARMS = ["scratch", "finetune", "last-layer"]   # the unguided arms GTL is compared with
BASELINE = "default"

# Evaluation sizing. Quick: a coarser grid and fewer episodes; full: gtl's default grids.
QUICK_EVAL = ("--episodes 200 --validation-episodes 40 "
              "--learning-rates 0.003,0.01,0.03,0.1,0.3 --step-counts 10,20,40,80,160,320")
FULL_EVAL = "--episodes 400 --validation-episodes 80"

DIGITS_MLP = "flatten dense(64) relu dense(32) relu dense(5)"   # gtl's default model
DEFAULT_TU_DIR = "/usr/local/share/gtl/tu"
DEFAULT_GENES_DIR = "/usr/local/share/gtl/genes"

PUBLIC_STUDIES = ["scout-design", "unsupervised", "architectures", "genes", "guide-choices"]
HIDDEN_STUDIES = ["smoke"]   # a tiny study for the end-to-end test


class StudyError(ValueError):
    pass


@dataclass
class Variant:
    name: str
    flags: List[str] = field(default_factory=list)      # job flags on top of the study's
    shares_baseline: bool = False                        # guided arms only; others from `default`
    full_flags: List[str] = field(default_factory=list)  # extra flags with --full (override)
    note: str = ""

    def arms(self) -> Optional[List[str]]:
        """The arms this variant's jobs evaluate (None: all of them, no --arms flag)."""
        return list(GUIDED_ARMS) if self.shares_baseline else None


@dataclass
class Study:
    name: str
    title: str
    question: str
    variants: List[Variant]
    common_flags: List[str] = field(default_factory=list)   # after the evaluation flags, before the variant's
    plots: List[str] = field(default_factory=list)
    factors: List[Tuple[str, List[Tuple[str, str]]]] = field(default_factory=list)   # scout-design panels
    guide_histograms: List[str] = field(default_factory=list)   # variants whose seed-1 guides are plotted
    default_seeds: Optional[int] = None                           # overrides the driver's default seed count
    skip_reason: Optional[str] = None                             # set when the study cannot run here
    quick_eval: str = QUICK_EVAL
    full_eval: str = FULL_EVAL

    def variant(self, name: str) -> Variant:
        for v in self.variants:
            if v.name == name:
                return v
        raise StudyError(f"study {self.name} has no variant '{name}' (has: {', '.join(v.name for v in self.variants)})")

    @property
    def baseline(self) -> Optional[Variant]:
        return next((v for v in self.variants if v.name == BASELINE), None)


def split(text: str) -> List[str]:
    return shlex.split(text)


def merge_flags(*lists: Sequence[str]) -> List[str]:
    """Concatenates flag lists; a flag given again later replaces the earlier value in place
    (gtl refuses a flag given twice). A token starting with `--` is a flag; it takes the next
    token as its value unless that is another flag (switches such as --rescale-mean-one)."""
    order: List[str] = []
    values: Dict[str, Optional[str]] = {}
    for tokens in lists:
        i = 0
        tokens = list(tokens)
        while i < len(tokens):
            flag = tokens[i]
            if not flag.startswith("--"):
                raise StudyError(f"expected a flag, got '{flag}' in {' '.join(map(shlex.quote, tokens))}")
            value = None
            if "=" in flag:
                flag, value = flag.split("=", 1)
                i += 1
            elif i + 1 < len(tokens) and not tokens[i + 1].startswith("--"):
                value = tokens[i + 1]
                i += 2
            else:
                i += 1
            if flag not in values:
                order.append(flag)
            values[flag] = value
    out: List[str] = []
    for f in order:
        out.append(f)
        if values[f] is not None:
            out.append(values[f])
    return out


def flag_value(flags: Sequence[str], name: str) -> Optional[str]:
    """The value of --name in a merged flag list (None when absent)."""
    flags = list(flags)
    for i, t in enumerate(flags):
        if t == f"--{name}" and i + 1 < len(flags) and not flags[i + 1].startswith("--"):
            return flags[i + 1]
        if t.startswith(f"--{name}="):
            return t.split("=", 1)[1]
    return None


def class_count(text: str) -> int:
    """Classes in a gtl class list such as 0-4, 5,7,9 or 0-2,7."""
    n = 0
    for part in text.split(","):
        ends = part.split("-")
        if len(ends) == 1 and ends[0].isdigit():
            n += 1
        elif len(ends) == 2 and ends[0].isdigit() and ends[1].isdigit() and int(ends[0]) <= int(ends[1]):
            n += int(ends[1]) - int(ends[0]) + 1
        else:
            raise StudyError(f"'{text}' is not a class list like 0-4 or 0,2,4")
    return n


def job_flags(study: Study, variant: Variant, full: bool) -> List[str]:
    """Every job flag of a variant except --seed, --out and --workers (the driver adds those)."""
    arms = variant.arms()
    return merge_flags(split(study.full_eval if full else study.quick_eval), study.common_flags, variant.flags,
                       variant.full_flags if full else [], ["--arms", ",".join(arms)] if arms else [])


# ---------------------------------------------------------------------------------------------
# The genes study's data: a CSV prepared by `scripts/fetch-data.sh genes`.

def _genes_from_json(path: str) -> List[str]:
    """Flags from a JSON file written by the genes fetch step. Accepted shapes:
    {"flags": "--dataset csv:/path.csv --pretrain-classes 0-4 --downstream-classes 5-9"} or
    {"dataset": "csv:/path.csv", "pretrainClasses": "0-4", "downstreamClasses": "5-9",
     optional "ways", "shots", "queries", "pretrainSteps"} (snake_case and kebab-case keys too)."""
    with open(path) as f:
        d = json.load(f)
    if not isinstance(d, dict):
        raise StudyError(f"{path}: expected a JSON object")
    if isinstance(d.get("flags"), str):
        return split(d["flags"])
    if isinstance(d.get("flags"), list):
        return [str(x) for x in d["flags"]]
    norm = {k.replace("_", "").replace("-", "").lower(): v for k, v in d.items()}
    if "dataset" not in norm:
        raise StudyError(f"{path}: no 'flags' and no 'dataset' key")
    out = ["--dataset", str(norm["dataset"])]
    for key, flag in [("pretrainclasses", "--pretrain-classes"), ("downstreamclasses", "--downstream-classes"),
                      ("ways", "--ways"), ("shots", "--shots"), ("queries", "--queries"),
                      ("pretrainsteps", "--pretrain-steps")]:
        if key in norm:
            v = norm[key]
            out += [flag, ",".join(map(str, v)) if isinstance(v, list) else str(v)]
    return out


def genes_flags(cli_value: Optional[str] = None) -> Tuple[Optional[List[str]], str]:
    """(flags, where they came from), or (None, why not): --genes-flags, then $GTL_GENES_FLAGS,
    then $GTL_GENES_DIR/study.json (or the only *.json there; default /usr/local/share/gtl/genes)."""
    if cli_value:
        return split(cli_value), "--genes-flags"
    if os.environ.get("GTL_GENES_FLAGS"):
        return split(os.environ["GTL_GENES_FLAGS"]), "$GTL_GENES_FLAGS"
    d = os.environ.get("GTL_GENES_DIR", DEFAULT_GENES_DIR)
    files = sorted(glob.glob(os.path.join(d, "*.json")))
    preferred = [f for f in files if os.path.basename(f) == "study.json"]
    if preferred:
        files = preferred
    if len(files) == 1:
        return _genes_from_json(files[0]), files[0]
    if len(files) > 1:
        return None, (f"{d} holds several JSON files ({', '.join(map(os.path.basename, files))}); name one study.json "
                      f"or pass --genes-flags")
    return None, (f"the gene-expression data is not configured: run `scripts/fetch-data.sh genes` (it writes "
                  f"{d}/*.json; set $GTL_GENES_DIR to look elsewhere) or pass "
                  f"--genes-flags \"--dataset csv:PATH --pretrain-classes LIST --downstream-classes LIST\"")


# ---------------------------------------------------------------------------------------------

def _scout_design() -> Study:
    v = [Variant("default", note="64 scouts, 2 classes each, 40 samples per class, 100 steps")]
    v += [Variant(f"k{k}", split(f"--classes-per-scout {k}"), True,
                  note=f"{k} classes per scout" + (" (all pre-training classes)" if k == 5 else ""))
          for k in (3, 4, 5)]
    v += [Variant("spc10", split("--samples-per-class 10"), True, note="10 samples per class"),
          Variant("spc-all", split("--samples-per-class all"), True, note="all samples of each class (~180)"),
          Variant("scouts8", split("--scouts 8"), True, note="8 scouts"),
          Variant("scouts256", split("--scouts 256"), True, note="256 scouts"),
          Variant("steps25", split("--scout-steps 25"), True, note="25 steps per scout"),
          Variant("steps400", split("--scout-steps 400"), True, note="400 steps per scout")]
    return Study(
        "scout-design", "Scout design: similarity to the downstream task versus ease of convergence",
        "How do the scouts' subproblems (classes per scout, samples per class), their number and their "
        "training length change GTL's few-shot accuracy? Digits 0-4 pre-training, 5-way episodes on 5-9.",
        v, plots=["factors", "scout-loss", "guide-hist", "diff-bars"],
        factors=[("classes per scout (k)", [("2", "default"), ("3", "k3"), ("4", "k4"), ("5 (all)", "k5")]),
                 ("samples per class", [("10", "spc10"), ("40", "default"), ("all", "spc-all")]),
                 ("scouts", [("8", "scouts8"), ("64", "default"), ("256", "scouts256")]),
                 ("scout steps", [("25", "steps25"), ("100", "default"), ("400", "steps400")])],
        guide_histograms=["default", "k5", "scouts8", "steps400"])


def _unsupervised() -> Study:
    h10 = "flatten dense(64) relu dense(32) relu dense(10)"
    v = [Variant("default", note="supervised pre-training and supervised scouts (true labels of 0-4)"),
         Variant("kmeans", split("--objective kmeans --clusters 5"),
                 note="pre-training and scouts on 5 k-means clusters of digits 0-4; labels unused until the episodes"),
         Variant("denoise", split("--objective denoise --clusters 5"),
                 note="a denoising autoencoder (the MLP's body as encoder, masking noise 25 %) pre-trained on 0-4; "
                      "each scout reconstructs 2 of 5 k-means clusters; downstream arms get a fresh head"),
         Variant("denoise-path", split("--objective denoise --clusters 5 --statistic path"),
                 note="denoise with the path-length statistic (the best statistic of guide-choices): "
                      "the most favourable combination for GTL found here"),
         Variant("kmeans-k10", ["--objective", "kmeans", "--clusters", "10", "--layers", h10],
                 note="10 k-means clusters; the head widened to 10 outputs (changes the base)"),
         Variant("supervised-h10", ["--layers", h10],
                 note="control for kmeans-k10: supervised, with the same 10-output head")]
    return Study(
        "unsupervised", "Scouts without labels: k-means pseudo-labels and denoising autoencoders versus supervised pre-training",
        "Does GTL still help when pre-training and scouting never see a label (k-means pseudo-classes, or a "
        "denoising autoencoder whose scouts reconstruct k of the clusters), "
        "with supervised few-shot episodes downstream?",
        v, plots=["arm-bars", "diff-bars", "guide-hist"], guide_histograms=["default", "kmeans", "denoise", "denoise-path"])


def _architectures() -> Study:
    tu = os.environ.get("GTL_TU_DIR", DEFAULT_TU_DIR)
    v = [Variant("fashion-mlp", ["--dataset", "fashion-mnist", "--layers", "flatten dense(64) relu dense(32) relu dense(5)",
                                 "--pretrain-steps", "1000"], full_flags=split("--pretrain-steps 3000"),
                 note="Fashion-MNIST (28x28), MLP; pre-training on classes 0-4, episodes on 5-9"),
         Variant("fashion-cnn", ["--dataset", "fashion-mnist", "--layers",
                                 "conv2d(8,3) relu maxpool(2) conv2d(16,3) relu maxpool(2) flatten dense(32) relu dense(5)",
                                 "--pretrain-steps", "1000"], full_flags=split("--pretrain-steps 3000"),
                 note="Fashion-MNIST, a small CNN (3x3 convolutions, 2x2 max-pooling)"),
         Variant("cuneiform-gnn", ["--dataset", f"tu:{tu}/Cuneiform/Cuneiform", "--layers",
                                   "graphconv(32) relu graphconv(32) relu readout(mean) dense(15)",
                                   "--pretrain-classes", "0-14", "--downstream-classes", "15-29",
                                   "--queries", "1", "--shots", "1,2"],
                 # readout(sum): scouts diverge (NaN/inf) at the default scout lr 0.05. Classes 27-29
                 # have 8 graphs, so a validation pool holds 3: 2 shots + 1 query is the most that fits.
                 note="Cuneiform graphs (30 classes of 8-9 graphs), GCN with mean readout; pre-training on 0-14, "
                      "episodes on 15-29 (1 query per class: the smallest validation pools hold 3 graphs)")]
    return Study(
        "architectures", "Architectures with built-in inductive biases: MLP, CNN, GNN",
        "Does GTL still help with convolutional and graph networks, on data where pre-training might transfer?",
        v, plots=["arm-bars", "diff-bars", "guide-hist"], guide_histograms=["fashion-mlp", "fashion-cnn", "cuneiform-gnn"])


def _genes(cli_flags: Optional[str]) -> Study:
    flags, source = genes_flags(cli_flags)
    skip = None
    if flags is None:
        skip, flags = source, ["--dataset", "csv:UNCONFIGURED"]
    pretrain = flag_value(flags, "pretrain-classes") or "0-4"
    ways = int(flag_value(flags, "ways") or 5)
    head = max(class_count(pretrain), ways)
    layers = f"flatten dense(64) relu dense(32) relu dense({head})"
    common = merge_flags(["--layers", layers], flags)   # the data's flags may override the layers
    v = [Variant("supervised", note="supervised pre-training and scouts on the pre-training classes"),
         Variant("kmeans", split("--objective kmeans"),
                 note="k-means pseudo-labels (one cluster per pre-training class) for pre-training and scouts"),
         Variant("denoise", split("--objective denoise"),
                 note="a denoising autoencoder (masking 25 %) pre-trained on the pre-training classes' profiles; "
                      "each scout reconstructs the profiles of 2 k-means clusters; downstream arms get a fresh head")]
    # Quick size: the 2,000-input MLP makes each fine-tuning step ~20x a digits step, and with the
    # digits grid most arms chose its smallest learning rate (0.003), so the grid here starts at
    # 0.001 and the validation episodes are halved (the test pools hold only ~9 profiles per class).
    st = Study("genes", "Gene expression (the RNA-seq setting of the GTL follow-up)",
               f"Does GTL help few-shot classification of gene-expression profiles? Data flags from {source}.",
               v, common_flags=common, plots=["arm-bars", "diff-bars", "guide-hist"],
               guide_histograms=["supervised", "kmeans", "denoise"], skip_reason=skip,
               quick_eval=("--episodes 200 --validation-episodes 20 "
                           "--learning-rates 0.001,0.003,0.01,0.03,0.1,0.3 --step-counts 10,20,40,80,160,320"))
    return st


def _guide_choices() -> Study:
    v = [Variant("default", note="squared displacement, min-max per tensor")]
    v += [Variant(s, split(f"--statistic {s}"), True, note=f"statistic: {s}") for s in ("absolute", "path", "fisher")]
    v += [Variant("norm-model", split("--normalization model"), True, note="min-max over the whole model (the paper's text)")]
    # Protocol check: in the quick grid GTL's chosen learning rate and step count sit at the top
    # ends (0.3, 320 steps). A wider grid, every arm, tells whether GTL was only starved of steps.
    v += [Variant("wide-grid", split("--learning-rates 0.001,0.003,0.01,0.03,0.1,0.3,1,3 "
                                     "--step-counts 10,20,40,80,160,320,640,1280"),
                  note="protocol check, all arms: learning rates 0.001-3 and up to 1,280 steps")]
    v += [Variant(f"focus-{f}", split(f"--focus {f}"), True, note=f"focus {f}") for f in ("raw", "shift", "max")]
    v += [Variant("freeze-top-0.01", split("--freeze-top 0.01"), True,
                  note="the library's \"temperature\" freezing: top 1 % per tensor set to 1, the rest 0"),
          Variant("freeze-top-0.1", split("--freeze-top 0.1"), True, note="top 10 % per tensor set to 1, the rest 0"),
          Variant("affine-2-0.1", split("--affine 2,0.1"), True, note="the library's affine map: max(0, 2g - 0.1)"),
          Variant("sparsify-0.01", split("--sparsify-below 0.01"), True, note="guide values below 0.01 set to 0")]
    return Study(
        "guide-choices", "Guide choices: statistic, normalisation and adjustments",
        "Which statistic, normalisation scope and post-normalisation adjustment gives the best guide, paired "
        "against plain fine-tuning on the same episodes?",
        v, plots=["diff-bars", "guide-hist"], guide_histograms=["default", "absolute", "path", "fisher"])


def _smoke() -> Study:
    tiny = ("--scouts 4 --episodes 10 --validation-episodes 4 --shots 1 --pretrain-steps 50 "
            "--learning-rates 0.01,0.1 --step-counts 10,20")
    v = [Variant("default"), Variant("k3", split("--classes-per-scout 3"), True, note="3 classes per scout")]
    return Study("smoke", "Smoke test of the study driver", "Does the driver work end to end?", v,
                 plots=["factors", "scout-loss", "guide-hist", "arm-bars", "diff-bars"],
                 factors=[("classes per scout (k)", [("2", "default"), ("3", "k3")])],
                 guide_histograms=["default", "k3"], default_seeds=1, quick_eval=tiny, full_eval=tiny)


def build(name: str, genes_flags_cli: Optional[str] = None) -> Study:
    """The study called `name` (an error names the known ones)."""
    makers = {"scout-design": _scout_design, "unsupervised": _unsupervised, "architectures": _architectures,
              "genes": lambda: _genes(genes_flags_cli), "guide-choices": _guide_choices, "smoke": _smoke}
    if name not in makers:
        raise StudyError(f"unknown study '{name}' (known: {', '.join(PUBLIC_STUDIES)}, or all)")
    st = makers[name]()
    names = [v.name for v in st.variants]
    assert len(set(names)) == len(names), f"duplicate variant names in {name}"
    if any(v.shares_baseline for v in st.variants):
        assert st.baseline is not None and not st.baseline.shares_baseline, f"{name}: sharing needs a '{BASELINE}' variant"
    return st


def expand(name: str) -> List[str]:
    """`all` is every public study, in order."""
    return list(PUBLIC_STUDIES) if name == "all" else [name]
