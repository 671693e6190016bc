#!/usr/bin/env bash
# Installs everything gtl needs on a fresh Debian machine. Idempotent: packages already present
# are skipped, and `apt-get update` runs at most once per invocation, only when something is missing.
set -euo pipefail

packages=(libzmq3-dev libprotobuf-c-dev protobuf-c-compiler libopenblas-dev zlib1g-dev libssl-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    echo "setup: swift is at /opt/swift/usr/bin but not on PATH; run: export PATH=/opt/swift/usr/bin:\$PATH" >&2
  else
    echo "setup: no Swift toolchain found (Swift 6 is needed: https://www.swift.org/install/linux/)" >&2
  fi
  exit 1
fi
echo "setup: ok ($(swift --version 2>/dev/null | head -n 1))"
