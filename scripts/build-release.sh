#!/usr/bin/env bash
# Sets the machine up (quietly) and builds the given products in release mode:
#   scripts/build-release.sh PRODUCT...
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
echo "building (release)..."
for product in "$@"; do swift build -c release --product "$product" >/dev/null; done
