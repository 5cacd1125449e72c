#!/usr/bin/env bash
# One transport's four soak segments, one after the other (scripts/soak.sh runs it on
# this host for unicast and replicate, and inside the kernel-tier VM for gre):
# VRRPv3, VRRPv3 with HMAC, VRRPv2, VRRPv2 with HMAC.
#
#   scripts/lab/soak-segments.sh TRANSPORT ADVERT_INTERVAL FIRST_SEED SECONDS OUT_DIR [--web]
#
# --web adds load balancing (IPVS, so only in the VM).
# Each segment writes OUT_DIR/TRANSPORT-vN[-hmac].json and .log. Exit status 1 if any
# segment found a violation or failed to run.
set -uo pipefail
transport=$1 interval=$2 seed=$3 seconds=$4 out=$5 web=${6:-}
failed=0
for segment in "3" "3 hmac" "2" "2 hmac"; do
  set -- $segment
  version=$1 hmac=${2:-}
  name="$transport-v$version${hmac:+-hmac}"
  .build/debug/overcast-bench soak --transport "$transport" --version "$version" ${hmac:+--hmac} $web \
    --advert-interval "$interval" --seconds "$seconds" --seed "$seed" --json "$out/$name.json" --keep-directory "$out" \
    >"$out/$name.log" 2>&1 || failed=1
  grep -E '^soak: (unicast|replicate|gre)|violation\(s\)|^VIOLATION' "$out/$name.log" || tail -n 5 "$out/$name.log"
  seed=$((seed + 1))
done
exit $failed
