#!/usr/bin/env bash
# Installs Fashion-MNIST from Debian's dataset-fashion-mnist package, so `--dataset fashion-mnist`
# works offline afterwards, and the TU graph sets shipped in PyPI's grakel wheel (MUTAG, Cuneiform)
# for `--dataset tu:DIR/NAME`. Safe to run repeatedly: does nothing for what is already there.
#   scripts/fetch-data.sh          both
#   scripts/fetch-data.sh tu       only the TU sets (no apt, no root needed when GTL_TU_DIR is writable)
#   scripts/fetch-data.sh genes    only the gene-expression sets (below); never part of the default
# GTL_TU_DIR chooses where the TU sets go (default /usr/local/share/gtl/tu).
#
# `genes`: the ALL leukaemia microarray set (Bioconductor's ALL, 12,625 probe sets x 128 patients,
# Artistic-2.0) from Debian's r-bioc-all, as CSV files for `--dataset csv:PATH`. Only the package's
# .deb is downloaded and unpacked (apt-get download: nothing is installed, no R); PyPI's rdata,
# in a throwaway virtual environment, parses the R data, and scripts/data/genes.py keeps the
# GTL_GENES_TOP (default 2000) most variable probe sets, z-scores them and writes NAME.csv.gz,
# NAME.classes.txt and NAME.README for each labelling, plus study.json (the recommended flags, read
# by scripts/study.py), into GTL_GENES_DIR (default /usr/local/share/gtl/genes). To rebuild (e.g.
# with another GTL_GENES_TOP), delete those files.
set -euo pipefail

fetch_tu() {
    local dir=${GTL_TU_DIR:-/usr/local/share/gtl/tu} sets=(MUTAG Cuneiform) missing=() s
    for s in "${sets[@]}"; do
        [[ -f "$dir/$s/${s}_graph_indicator.txt" ]] || missing+=("$s")
    done
    if ((${#missing[@]})); then
        local tmp
        tmp=$(mktemp -d)
        python3 -m pip download --quiet --no-deps --dest "$tmp" grakel
        local wheel=("$tmp"/grakel-*.whl)
        [[ -f "${wheel[0]}" ]] || { echo "error: pip did not produce a grakel wheel in $tmp" >&2; return 1; }
        mkdir -p "$dir"
        # A wheel is a zip file; python's zipfile avoids depending on unzip.
        python3 - "${wheel[0]}" "$dir" "${missing[@]}" <<'PY'
import sys, zipfile, os
wheel, dest, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    for s in wanted:
        prefix = f"grakel/tests/data/{s}/"
        members = [m for m in z.namelist() if m.startswith(prefix) and not m.endswith("/")]
        if not members:
            sys.exit(f"error: {wheel} has no {prefix}")
        os.makedirs(os.path.join(dest, s), exist_ok=True)
        for m in members:
            with z.open(m) as src, open(os.path.join(dest, s, m[len(prefix):]), "wb") as out:
                out.write(src.read())
PY
        echo "TU sets ${missing[*]} installed in $dir (from $(basename "${wheel[0]}"))"
        rm -rf "$tmp"
    else
        echo "TU sets already installed in $dir"
    fi
    for s in "${sets[@]}"; do echo "  --dataset tu:$dir/$s/$s"; done
}

fetch_genes() {
    local dir=${GTL_GENES_DIR:-/usr/local/share/gtl/genes} top=${GTL_GENES_TOP:-2000}
    local sets=(all-subtype all-bt) here missing=() s f
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    [[ -f "$dir/study.json" ]] || missing+=(study.json)
    for s in "${sets[@]}"; do
        for f in "$s.csv.gz" "$s.classes.txt" "$s.README"; do
            [[ -f "$dir/$f" ]] || { missing+=("$s"); break; }
        done
    done
    if ((${#missing[@]})); then
        [[ "$top" =~ ^[1-9][0-9]*$ ]] || { echo "error: GTL_GENES_TOP must be a positive integer, got '$top'" >&2; return 1; }
        command -v python3 >/dev/null || { echo "error: python3 is needed to build the gene-expression sets" >&2; return 1; }
        local tmp
        tmp=$(mktemp -d)
        # shellcheck disable=SC2064  # expand now: $tmp is local
        trap "rm -rf '$tmp'" EXIT
        # apt-get download needs the package lists, and refreshing them needs root.
        if ! apt-cache show r-bioc-all >/dev/null 2>&1; then
            local sudo=()
            if [[ $(id -u) -ne 0 ]]; then
                command -v sudo >/dev/null || { echo "error: apt does not know r-bioc-all; need root (or sudo) for apt-get update" >&2; return 1; }
                sudo=(sudo)
            fi
            "${sudo[@]}" apt-get update -qq
        fi
        # As root, apt would try to drop to its sandbox user, which cannot write into $tmp.
        local sandbox=()
        [[ $(id -u) -ne 0 ]] || sandbox=(-o APT::Sandbox::User=root)
        (cd "$tmp" && apt-get download -qq "${sandbox[@]}" r-bioc-all) \
            || { echo "error: apt-get download r-bioc-all failed" >&2; return 1; }
        local deb=("$tmp"/r-bioc-all_*.deb)
        [[ -f "${deb[0]}" ]] || { echo "error: apt-get download produced no r-bioc-all .deb in $tmp" >&2; return 1; }
        dpkg-deb -x "${deb[0]}" "$tmp/root"
        local pkg="$tmp/root/usr/lib/R/site-library/ALL"
        [[ -f "$pkg/data/ALL.rda" ]] || { echo "error: ${deb[0]##*/} has no usr/lib/R/site-library/ALL/data/ALL.rda" >&2; return 1; }
        # --system-site-packages reuses an installed numpy; pip adds rdata (and what it needs).
        python3 -m venv --system-site-packages "$tmp/venv" \
            || { echo "error: python3 -m venv failed (on Debian's own python3: apt-get install python3-venv)" >&2; return 1; }
        "$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check rdata \
            || { echo "error: pip could not install rdata (PyPI), needed to read ALL.rda" >&2; return 1; }
        mkdir -p "$dir"
        "$tmp/venv/bin/python" "$here/data/genes.py" "$pkg" "$dir" --genes "$top" \
            --source "Debian package ${deb[0]##*/}" --copyright "$tmp/root/usr/share/doc/r-bioc-all/copyright"
        echo "gene-expression sets installed in $dir"
        rm -rf "$tmp"
        trap - EXIT
    else
        echo "gene-expression sets already installed in $dir"
    fi
    # The README of each set holds its suggested flags (one --dataset line per suggested split).
    echo "  recommended (in $dir/study.json, used by scripts/study.py's genes study):"
    python3 -c 'import json, sys; print("    " + json.load(open(sys.argv[1]))["flags"])' "$dir/study.json"
    for s in "${sets[@]}"; do
        echo "  $s ($dir/$s.README):"
        grep -e '^  # ' -e '^  --dataset ' "$dir/$s.README" | sed 's/^/  /'
    done
}

if [[ "${1:-}" == tu ]]; then
    fetch_tu
    exit 0
fi
if [[ "${1:-}" == genes ]]; then
    fetch_genes
    exit 0
fi
if [[ -n "${1:-}" ]]; then
    echo "error: unknown mode '$1' (expected no argument, tu or genes)" >&2
    exit 2
fi

DIR=/usr/share/datasets/fashion-mnist
FILES=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)

have_all() {
    local f
    for f in "${FILES[@]}"; do [[ -f "$DIR/$f" ]] || return 1; done
}

if have_all; then
    echo "Fashion-MNIST already installed in $DIR"
else
    SUDO=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || { echo "error: need root (or sudo) to install dataset-fashion-mnist" >&2; exit 1; }
        SUDO=(sudo)
    fi
    # Refresh the package lists only when apt does not know the package yet.
    if ! apt-cache show dataset-fashion-mnist >/dev/null 2>&1; then
        "${SUDO[@]}" apt-get update
    fi
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dataset-fashion-mnist
    have_all || { echo "error: dataset-fashion-mnist installed, but files are missing from $DIR" >&2; exit 1; }
    echo "Fashion-MNIST installed in $DIR"
fi
for f in "${FILES[@]}"; do echo "  $DIR/$f"; done
fetch_tu
