#!/usr/bin/env bash
# Tests of the study driver (scripts/study.py, scripts/studies/): unit tests of the statistics,
# the baseline-compatibility check, the skip/resume logic and the safetensors reader, and one
# end-to-end run of a tiny study against the real gtl binary (about 10-20 s).
#   scripts/test-study.sh            builds .build/release/gtl first when it is missing
#   GTL_BIN=PATH scripts/test-study.sh   uses that gtl binary instead
# Needs a python3 with numpy, matplotlib and pytest: the first python3 on PATH that has them, else
# Debian's /usr/bin/python3, after installing python3-matplotlib and python3-pytest with apt when
# root (what scripts/setup.sh should install).
set -euo pipefail
cd "$(dirname "$0")/.."

has_all() { "$1" -c 'import numpy, matplotlib, pytest' 2>/dev/null; }
py=""
for cand in python3 /usr/bin/python3; do
    if command -v "$cand" >/dev/null && has_all "$cand"; then py=$cand; break; fi
done
if [ -z "$py" ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "test-study: installing python3-matplotlib, python3-numpy and python3-pytest (Debian)"
        apt-cache show python3-matplotlib >/dev/null 2>&1 || apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            python3-matplotlib python3-numpy python3-pytest >/dev/null
        py=/usr/bin/python3
    fi
    if [ -z "$py" ] || ! has_all "$py"; then
        echo "test-study: need a python3 with numpy, matplotlib and pytest (apt-get install python3-matplotlib python3-pytest)" >&2
        exit 1
    fi
fi

gtl=${GTL_BIN:-$PWD/.build/release/gtl}
if [ ! -x "$gtl" ]; then
    if [ -n "${GTL_BIN:-}" ]; then echo "test-study: GTL_BIN=$GTL_BIN is not executable" >&2; exit 1; fi
    echo "test-study: building $gtl (swift build -c release)"
    swift build -c release
fi
export GTL_BIN=$gtl

echo "test-study: $("$py" --version), gtl $gtl"
# -p no:cacheprovider: leave no .pytest_cache in the tree. The slow end-to-end test runs too.
exec "$py" -m pytest -q -p no:cacheprovider scripts/studies/tests "$@"
