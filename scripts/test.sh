#!/usr/bin/env bash
# The project's test command: set-up, build, the whole test suite (unit and the slower
# integration tests that start real processes), and the check that generated code is current.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ -x scripts/check-protos ]; then scripts/check-protos; fi

# The integration tests run the gtl binary as real processes: build it first.
swift build
# Coordinator and workers on separate network namespaces (skips without root).
scripts/test-netns.sh .build/debug/gtl
# The Slurm deployment on a real one-node Slurm (installs slurm-wlm and munge; skips without root).
scripts/test-slurm.sh .build/debug/gtl
# Static checks of deploy/ (manifests, units, Dockerfile, flags and GTL_* variables against gtl --help).
scripts/check-deploy.sh .build/debug/gtl
# gtl and PyTorch (CPU wheel, in a venv) fine-tune to the same weights; the gtl_torch package's tests.
scripts/test-interop.sh
# Real data for the loader tests: Fashion-MNIST (Debian) and MUTAG/Cuneiform (PyPI's grakel).
# Without them (no root, no registry) those few tests skip and say why.
scripts/fetch-data.sh || echo "test.sh: fetch-data.sh failed; the Fashion-MNIST/TU loader tests will skip"
swift test --disable-swift-testing   # every test here is XCTest
# The study driver (scripts/study.py): its statistics, resume and baseline checks, and a tiny
# study end to end against the release gtl (built here: the studies run the release binary).
swift build -c release
scripts/test-study.sh
