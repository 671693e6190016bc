#!/usr/bin/env bash
# Installs Fashion-MNIST from Debian's dataset-fashion-mnist package, so `--data fashion-mnist`
# works offline afterwards. Safe to run repeatedly: does nothing if the files are already there.
set -euo pipefail

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
