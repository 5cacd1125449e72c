#!/usr/bin/env bash
# Kernel tier: run COMMAND [ARGS...] inside ONE boot of Debian's stock kernel (virtme-ng),
# because the host kernel lacks GRE/gretap and IPVS.
#
#   scripts/kernel-tier.sh COMMAND [ARGS...]
#
# The VM sees the host's filesystem (read-write, except /tmp, which is a throw-away
# overlay inside the VM), so binaries built here run unchanged. Inside, as root, it loads
# the modules below, prints the kernel and the loaded modules, cd's to the current
# directory and runs COMMAND. Exit status: COMMAND's own; 124 if the VM timed out;
# 125 if the VM did not boot/run or the modules could not be loaded.
#
# Environment knobs:
#   KT_TIMEOUT (900 s)  KT_MEMORY (2G)  KT_CPUS (2)  KT_KERNEL (a version in /lib/modules)
#   KT_MODULES (extra modules to load)  KT_VERBOSE=1 (kernel boot console to stderr)
#   KT_NETWORK=user (virtme-ng user networking: the host's loopback is 10.0.2.2 inside)
#   KT_APPEND (more kernel command line, e.g. "tsc=reliable": see BENCHMARKS.md, health)
# Inside the VM: OVERCAST_KERNEL_TIER=1; PATH, HOME, LANG/LC_* and OVERCAST_*/SWIFT_*
# variables are carried over from the host.
set -uo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
fi

say() { echo "kernel tier: $*" >&2; }

KT_TIMEOUT=${KT_TIMEOUT:-900}
KT_MEMORY=${KT_MEMORY:-2G}
KT_CPUS=${KT_CPUS:-2}
# ip_gre provides gretap (pulls gre, ip_tunnel); ip_vs pulls nf_conntrack; schedulers are
# separate modules. bridge/veth would autoload on `ip link add`, loaded here up front so
# the log shows them. netns is built in.
MODULES="ip_vs ip_vs_rr ip_vs_wrr ip_gre bridge br_netfilter veth ${KT_MODULES:-}"

for tool in vng qemu-system-x86_64 timeout; do
  command -v "$tool" >/dev/null 2>&1 ||
    { say "VM did not boot/run: '$tool' not found (run scripts/setup.sh)"; exit 125; }
done

# Newest installed kernel that has both modules and a vmlinuz (never the host's own).
kver=${KT_KERNEL:-}
if [ -z "$kver" ]; then
  for v in $(ls /lib/modules 2>/dev/null | sort -V); do
    [ -r "/boot/vmlinuz-$v" ] && kver=$v
  done
fi
if [ -z "$kver" ] || [ ! -r "/boot/vmlinuz-$kver" ] || [ ! -d "/lib/modules/$kver" ]; then
  say "VM did not boot/run: no usable kernel (/boot/vmlinuz-* with /lib/modules/*); install linux-image-amd64"
  exit 125
fi

ktdir=$(mktemp -d "${TMPDIR:-/tmp}/kernel-tier.XXXXXX") || { say "mktemp failed"; exit 125; }
trap 'rm -rf "$ktdir"' EXIT
status="$ktdir/status"   # written by the VM through --rwdir (/tmp writes inside stay inside)
: >"$status"

# vng looks under ~/.config and needs a writable TMPDIR; give it a HOME if there is none.
if [ -z "${HOME:-}" ] || [ ! -d "$HOME" ] || [ ! -w "$HOME" ]; then
  mkdir -p "$ktdir/home"
  export HOME="$ktdir/home"
fi

start=$(date +%s.%N)

# The in-VM script. Values are baked in with %q so no quoting survives two shells.
{
  echo '#!/bin/bash'
  echo 'set -u'
  printf 'status=%q\n' "$status"
  printf 'start=%q\n' "$start"
  printf 'cwd=%q\n' "$PWD"
  printf 'modules=%q\n' "$MODULES"
  printf 'network=%q\n' "${KT_NETWORK:-}"
  # Carry over a chosen part of the environment (the VM's init resets it).
  printf 'export PATH=%q\n' "$PATH:/usr/local/sbin:/usr/sbin:/sbin"
  printf 'export HOME=%q\n' "$HOME"
  while IFS= read -r name; do
    printf 'export %s=%q\n' "$name" "${!name}"
  done < <(compgen -e | grep -E '^(LANG|LC_[A-Z_]+|OVERCAST_[A-Za-z0-9_]*|SWIFT_[A-Za-z0-9_]*)$' | grep -vx OVERCAST_KERNEL_TIER)
  echo 'export OVERCAST_KERNEL_TIER=1'
  printf 'cmd=(%s)\n' "$(printf '%q ' "$@")"
  cat <<'EOS'
mark() { echo "$1" >>"$status"; sync "$status" 2>/dev/null || sync; }
mark booted
echo "kernel tier: VM kernel $(uname -r), $(nproc) CPUs, clock source $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null), up $(cut -d' ' -f1 /proc/uptime)s"
# shellcheck disable=SC2086
if ! modprobe -a $modules; then
  echo "kernel tier: modprobe -a $modules failed" >&2
  mark modprobe-failed
  exit 125
fi
relevant='^(ip_vs[a-z_]*|ip_gre|gre|ip_tunnel|bridge|stp|llc|veth|dummy|macvlan|vxlan|nf_conntrack|tun|8021q) '
echo "kernel tier: modules (loaded by up $(cut -d' ' -f1 /proc/uptime)s): $(grep -E "$relevant" /proc/modules | cut -d' ' -f1 | sort | tr '\n' ' ')"
if [ -n "$network" ]; then
  # User networking: the NIC's name and virtme-ng's DHCP vary between boots, so give it
  # QEMU's fixed user-network address ourselves unless it already has one.
  nic=""
  for _ in $(seq 1 100); do
    nic=$(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -Ev '^(lo|gre0|gretap0|erspan0|ip_vti0|tunl0|sit0)$' | head -n 1)
    [ -n "$nic" ] && break
    sleep 0.1
  done
  if [ -z "$nic" ]; then echo "kernel tier: no network interface in the VM" >&2; mark network-failed; exit 125; fi
  ip link set "$nic" up
  if ! ip -4 addr show dev "$nic" | grep -q inet; then
    ip addr add 10.0.2.15/24 dev "$nic"
  fi
  ip route replace default via 10.0.2.2 dev "$nic"
  echo "kernel tier: network $nic $(ip -4 -br addr show dev "$nic" | awk '{print $3}'), host at 10.0.2.2"
fi
cd "$cwd" || { echo "kernel tier: cannot cd to $cwd in the VM" >&2; mark cd-failed; exit 125; }
now=$(date +%s.%N)
echo "kernel tier: boot took $(awk -v a="$start" -v b="$now" 'BEGIN{printf "%.1f", b-a}')s; running:$(printf ' %q' "${cmd[@]}")"
mark cmd-start
"${cmd[@]}"
rc=$?
mark "rc=$rc"
exit $rc
EOS
} >"$ktdir/in-vm.sh"

vng_args=(
  --run "/boot/vmlinuz-$kver"
  --disable-kvm --cpus "$KT_CPUS" --memory "$KT_MEMORY"
  --rw --rwdir "$ktdir" --user root --cwd /
)
[ "${KT_VERBOSE:-0}" = 1 ] && vng_args+=(--verbose)
[ -n "${KT_NETWORK:-}" ] && vng_args+=(--network "$KT_NETWORK")
[ -n "${KT_APPEND:-}" ] && vng_args+=(--append "$KT_APPEND")
vng_args+=(--exec "bash $(printf %q "$ktdir/in-vm.sh")")

say "booting $kver (no KVM, $KT_CPUS CPUs, $KT_MEMORY, timeout ${KT_TIMEOUT}s)"
# stdin from /dev/null: QEMU would otherwise grab (and raw-mode) a terminal, and in the
# background process group that `timeout` creates it would be stopped by SIGTTIN.
# Output through a pipe (a cat writing to our stdout): QEMU re-opens /proc/self/fd/1 and
# /proc/self/fd/2 as files (O_TRUNC, separate offsets), which clobbers a log file shared
# by stdout and stderr. Guest stdout and stderr both end up on our stdout.
# `timeout` signals its whole process group, so QEMU dies with vng; it runs in its own
# process group, so a Ctrl-C here is forwarded to it by the trap.
exec 4> >(cat)
cat_pid=$!
timeout -k 30 "$KT_TIMEOUT" vng "${vng_args[@]}" </dev/null >&4 2>&4 &
vm_pid=$!
exec 4>&-
interrupted=0
trap 'interrupted=1; kill -TERM "$vm_pid" 2>/dev/null' INT TERM HUP
while :; do
  wait "$vm_pid"
  vng_rc=$?
  kill -0 "$vm_pid" 2>/dev/null || break
done
wait "$cat_pid" 2>/dev/null
trap - INT TERM HUP
elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')

if [ "$interrupted" = 1 ]; then
  say "interrupted; VM stopped"
  exit 130
fi
rc_line=$(grep -E '^rc=[0-9]+$' "$status" | tail -1)
if [ -n "$rc_line" ]; then
  rc=${rc_line#rc=}
  if [ "$rc" = 0 ]; then
    say "command succeeded (${elapsed}s in all)"
  else
    say "command failed with exit status $rc (${elapsed}s in all)"
  fi
  exit "$rc"
fi
if [ "$vng_rc" = 124 ] || [ "$vng_rc" = 137 ]; then
  say "VM timed out after ${KT_TIMEOUT}s ($(tr '\n' ' ' <"$status"))"
  exit 124
fi
if grep -qx cmd-start "$status"; then
  say "VM died while running the command (vng exit $vng_rc; kernel panic? rerun with KT_VERBOSE=1)"
  exit 125
fi
if grep -qx booted "$status"; then
  say "VM booted but setup failed ($(tr '\n' ' ' <"$status"); vng exit $vng_rc)"
  exit 125
fi
say "VM did not boot/run (vng exit $vng_rc, ${elapsed}s; rerun with KT_VERBOSE=1)"
exit 125
