#!/usr/bin/env bash
# The main job: set up, build, and run the demonstration (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
swift build -c release --product overcast >/dev/null
exec .build/release/overcast demo "$@"
