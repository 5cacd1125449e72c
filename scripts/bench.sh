#!/usr/bin/env bash
# Publishes the comparison benchmarks (BENCHMARKS.md): release build, every case, JSON,
# an SVG chart and the table, in bench/results/ (or $BENCH_OUT).
#   scripts/bench.sh                 full runs (about an hour on 2 cores, most of it in the VM)
#   scripts/bench.sh --quick         small counts: checks that every case runs
#   scripts/bench.sh --runs 5        runs per variant
# On a kernel with IPVS and GRE every case runs here. Otherwise (this machine) the cases
# that need them (ipvs, health, and the GRE variants of failover and adverts) run in one
# VM boot of Debian's stock kernel, with the other transports measured again there as
# their same-run references, and health once more in a boot with the TSC clock; the
# host cases run on this kernel.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-release.sh overcast overcast-bench
bin=.build/release/overcast-bench
out=${BENCH_OUT:-bench/results}
mkdir -p "$out"
out=$(cd "$out" && pwd)
# Runs in the emulated VM are slow: fewer by default.
vm_args=("$@")
if [ $# -eq 0 ]; then vm_args=(--runs "${BENCH_VM_RUNS:-2}"); set -- --runs "${BENCH_RUNS:-5}"; fi

modprobe -q ip_vs 2>/dev/null || true
modprobe -q ip_gre 2>/dev/null || true
if [ -e /proc/net/ip_vs ] && [ -d /sys/module/ip_gre ]; then
  "$bin" "$@" --json "$out/results.json" --svg "$out/results.svg" --markdown "$out/results.md" | tee "$out/results.txt"
  exit 0
fi
echo "== on this kernel ($(uname -r)): failover, adverts, route, idle, health (Overcast) =="
"$bin" "$@" failover adverts route idle health --json "$out/host.json" >/dev/null
echo "== in the VM (Debian's stock kernel): GRE, IPVS and the checkers =="
# In the VM, GRE beside Overcast's and keepalived's unicast (replicate adds nothing there).
KT_TIMEOUT=${KT_TIMEOUT:-5400} scripts/kernel-tier.sh "$bin" "${vm_args[@]}" failover adverts ipvs health \
  --transport "overcast gre" --transport "overcast unicast" --transport "keepalived unicast" --json "$out/vm.json" >/dev/null
echo "== in the VM booted with the TSC clock: the checkers again =="
# The VM's kernel finds the emulated TSCs unsynchronised and falls back to HPET, where
# every clock read is a trapped device access (~1 us, against ~0.07 us through the TSC);
# real hardware reads the clock in user space. The rows say "VM, TSC clock".
KT_APPEND=tsc=reliable KT_TIMEOUT=${KT_TIMEOUT:-5400} scripts/kernel-tier.sh "$bin" "${vm_args[@]}" health \
  --json "$out/vm-tsc.json" >/dev/null
"$bin" --from "$out/host.json" --from "$out/vm.json" --from "$out/vm-tsc.json" --json "$out/results.json" \
  --svg "$out/results.svg" --markdown "$out/results.md" | tee "$out/results.txt"
