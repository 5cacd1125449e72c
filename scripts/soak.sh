#!/usr/bin/env bash
# The full fault soak (docs/soak.md), in one invocation at a commit: every transport
# (unicast and replicate on this host, side by side; gre in one boot of the kernel-tier
# VM), each in four segments (VRRPv3 and VRRPv2, each without and with HMAC), so that
# every transport gets an hour and more than a thousand faults at the default length.
# Each segment's report goes to bench/results/soak/ (JSON, with run.json naming the
# commit, kernel and CPU), and BENCHMARKS.md's soak section is written from them.
#
#   scripts/soak.sh [MINUTES_PER_SEGMENT]    (default 15)
#
# Exit status: 1 if any segment found a violation (its logs are kept in /tmp, as the
# segment's output says), 0 otherwise. The seeds are in the reports: a segment replays
# with overcast-bench soak --seed N and the same options.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-15}
seconds=$((minutes * 60))
out=bench/results/soak
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "soak.sh publishes figures for a commit: commit (or stash) the changes first" >&2
  exit 1
fi
swift build
rm -rf "$out"
mkdir -p "$out"
commit=$(git rev-parse HEAD)
cat >"$out/run.json" <<JSON
{"commit": "$commit", "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "host_kernel": "$(uname -r)",
 "cpu": "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')", "cores": $(nproc),
 "build": "debug", "minutes_per_segment": $minutes}
JSON
base=${SOAK_SEED:-$(date +%s)}
status=0
scripts/lab/soak-segments.sh unicast 0.2 $((base + 100)) "$seconds" "$out" & unicast=$!
scripts/lab/soak-segments.sh replicate 0.2 $((base + 200)) "$seconds" "$out" & replicate=$!
wait $unicast || status=1
wait $replicate || status=1
# GRE needs the VM's kernel; netem (delay, duplicate), clock steps and load balancing
# (IPVS, web servers, a client) run there too. The VM emulates its CPUs: VRRP at 1 s there.
KT_TIMEOUT=$((seconds * 4 + 1800)) KT_MODULES="sch_netem" scripts/lab/with-ec2-lab.sh scripts/kernel-tier.sh \
  scripts/lab/soak-segments.sh gre 1 $((base + 300)) "$seconds" "$out" --web || status=1

reports=()
for transport in unicast replicate gre; do
  for name in v3 v3-hmac v2 v2-hmac; do
    [ -f "$out/$transport-$name.json" ] && reports+=("$out/$transport-$name.json")
  done
done
table=$(.build/debug/overcast-bench soak-report "${reports[@]}")
{
  echo "<!-- soak:begin (written by scripts/soak.sh from bench/results/soak; do not edit) -->"
  echo "Commit \`$commit\`, $(date -u +%Y-%m-%d), $minutes min per segment:"
  echo
  echo "$table"
  echo "<!-- soak:end -->"
} >"$out/table.md"
python3 - "$out/table.md" <<'PY'
import re, sys
table = open(sys.argv[1]).read()
text = open("BENCHMARKS.md").read()
pattern = re.compile(r"<!-- soak:begin.*?<!-- soak:end -->\n", re.S)
text = pattern.sub(lambda _: table, text) if pattern.search(text) else text.rstrip("\n") + "\n\n## Fault soak\n\n" + table
open("BENCHMARKS.md", "w").write(text)
PY
echo "soak: reports in $out, BENCHMARKS.md's soak section written (status $status)"
exit $status
