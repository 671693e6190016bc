#!/usr/bin/env bash
# Installs Fashion-MNIST from Debian's dataset-fashion-mnist package, so `--dataset fashion-mnist`
# works offline afterwards, and the TU graph sets shipped in PyPI's grakel wheel (MUTAG, Cuneiform)
# for `--dataset tu:DIR/NAME`. Safe to run repeatedly: does nothing for what is already there.
#   scripts/fetch-data.sh          both
#   scripts/fetch-data.sh tu       only the TU sets (no apt, no root needed when GTL_TU_DIR is writable)
# GTL_TU_DIR chooses where the TU sets go (default /usr/local/share/gtl/tu).
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

if [[ "${1:-}" == tu ]]; then
    fetch_tu
    exit 0
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
