#!/usr/bin/env bash
# The main job: the article's whole setup end to end, narrated (see README).
#   scripts/demo.sh [unicast|gre|replicate|all] [--nopreempt]
# Runs on this machine's kernel when it has IPVS and GRE; otherwise inside one VM boot of
# Debian's stock kernel (scripts/kernel-tier.sh). Nothing else to set up.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-release.sh overcast overcast-demo

modprobe -q ip_vs 2>/dev/null || true
modprobe -q ip_gre 2>/dev/null || true
if [ -e /proc/net/ip_vs ] && [ -d /sys/module/ip_gre ]; then
  exec .build/release/overcast-demo "$@"
fi
echo "this kernel ($(uname -r)) has no IPVS or no GRE: running inside a VM with Debian's stock kernel (about a minute to boot)"
# moto runs on this host (fast Python); the VM reaches it through user networking.
exec scripts/lab/with-ec2-lab.sh scripts/kernel-tier.sh .build/release/overcast-demo "$@"
