#!/usr/bin/env bash
# The install test of the Debian package: scripts/install-test.sh DEB
#
# On a clean Debian 12 (bookworm) minbase root made with debootstrap, with no Swift in it,
# the package must install with `apt-get install ./DEB` (its Depends from Debian), start
# nothing, run (`--version`, `check-config` on the shipped example, its man pages), pass
# `systemd-analyze verify`, run two daemons in network namespaces that elect a MASTER and
# fail over, and `dpkg -r` / `dpkg --purge` must remove what they should and nothing more.
#
# The debootstrap root is cached as a tarball in $OVERCAST_ROOT_CACHE
# (/var/cache/overcast), named by suite, variant, mirror and package list, so a changed
# list builds a new one; each run extracts it into a fresh temporary directory. The trap
# unmounts what this run mounted, deletes the namespaces it made, stops the daemons it
# started (by pid) and removes its temporary root, also on failure.
#
# Needs root, debootstrap, chroot and ip. Without them it skips with the reason, unless
# CI=true, where a missing prerequisite is a failure.
set -euo pipefail

say() { echo "install-test: $*"; }
fail() { echo "install-test: FAILED: $*" >&2; exit 1; }

deb=${1:-}
[ -n "$deb" ] && [ $# -eq 1 ] || { echo "usage: $0 DEB" >&2; exit 2; }
[ -f "$deb" ] || fail "no such package: $deb"
deb=$(realpath "$deb")

missing=""
[ "$(id -u)" = 0 ] || missing="$missing root"
for tool in debootstrap chroot ip tar mount umount flock dpkg-deb; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
  [ "${CI:-}" = true ] && fail "missing prerequisite(s):$missing (CI=true: a failure, not a skip)"
  say "skipped: missing prerequisite(s):$missing"
  exit 0
fi

suite=bookworm
variant=minbase
# What the test runs inside the root: man (man-db), ip (iproute2, also a Depends of the
# package), systemd-analyze (systemd). Nothing of Overcast's own Depends is here: those
# must come from `apt-get install` of the package.
include=(man-db iproute2 systemd)
# The mirrors this host's apt uses (deb822 URIs: lines or one-line debs), else Debian's.
host_uris() { # path-suffix: debian or debian-security
  { sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | tr ' ' '\n'
    awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^http/) { print $i; break } }' \
      /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null; } |
    sed 's|/*$||' | grep -E "^https?://[^ ]*/$1\$" | head -n 1 || true
}
mirror=$(host_uris debian); mirror=${mirror:-http://deb.debian.org/debian}
security=$(host_uris debian-security); security=${security:-http://security.debian.org/debian-security}
# Every run needs the mirror (apt-get update, the Depends); without curl to ask first,
# apt-get update says it below.
if command -v curl >/dev/null && ! curl -fsSI --max-time 20 "$mirror/dists/$suite/Release" >/dev/null 2>&1; then
  [ "${CI:-}" = true ] && fail "the Debian mirror $mirror is not reachable (CI=true: a failure, not a skip)"
  say "skipped: the Debian mirror $mirror is not reachable"
  exit 0
fi

if command -v zstd >/dev/null 2>&1; then compress=--zstd; ext=tar.zst; else compress=--gzip; ext=tar.gz; fi
cache_dir=${OVERCAST_ROOT_CACHE:-/var/cache/overcast}
key=$(printf '%s\n' "$suite" "$variant" "$mirror" "$security" "${include[@]}" | sha256sum | cut -c1-12)
# A root older than this is built again: the test is of a Debian 12 as it is installed now.
max_age_days=${OVERCAST_ROOT_MAX_AGE_DAYS:-30}
tarball=$cache_dir/$suite-$variant-$key.$ext

started=$(date +%s)
lap=$started
# Prints how long the step since the last call took, for the timings in the log.
took() { local now; now=$(date +%s); say "($1: $((now - lap)) s)"; lap=$now; }

# --- everything this run creates, and its removal -------------------------------------
work=$(mktemp -d /var/tmp/overcast-install-test.XXXXXX)
root=$work/root
namespaces=()
pids=()
mounts=()
cleanup() {
  local status=$?
  set +e
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; wait "$pid" 2>/dev/null; }
  done
  for ns in "${namespaces[@]}"; do ip netns delete "$ns" 2>/dev/null; done
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}"
  done
  # Never delete through a mount that is still there (a bound /dev or /proc).
  if grep -qF " $work/" /proc/self/mounts; then
    echo "install-test: $work still has mounts; left in place" >&2
  else
    rm -rf --one-file-system "$work"
  fi
  [ $status = 0 ] || echo "install-test: FAILED (exit $status)" >&2
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

# --- the cached debootstrap root ------------------------------------------------------
# Built under a lock (two runs at once build it once); the tarball appears whole or not at
# all (written beside it, then renamed). A new one replaces this script's older tarballs
# (those with a .packages sidecar) of the same suite and variant.
mkdir -p "$cache_dir"
exec 9>"$cache_dir/.install-test.lock"
flock 9
if [ -s "$tarball" ] && [ -n "$(find "$tarball" -mtime "+$max_age_days")" ]; then
  say "the cached root is older than $max_age_days days: building it again"
  rm -f "$tarball"
fi
if [ ! -s "$tarball" ]; then
  say "building the $suite $variant root from $mirror (+ ${include[*]}) into $tarball"
  build=$work/debootstrap
  nice debootstrap --variant=$variant --include="$(IFS=,; echo "${include[*]}")" \
    "$suite" "$build" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -30 "$work/debootstrap.log" >&2; fail "debootstrap"; }
  # A Debian 12 machine's sources: the release, its updates and security.
  printf 'deb %s %s main\n' "$mirror" "$suite" "$mirror" "$suite-updates" "$security" "$suite-security" \
    >"$build/etc/apt/sources.list"
  chroot "$build" apt-get clean
  nice tar -C "$build" --numeric-owner --xattrs $compress -cf "$tarball.part" .
  for old in "$cache_dir/$suite-$variant-"*.packages; do
    if [ -e "$old" ] && [ "$old" != "${tarball%.$ext}.packages" ]; then rm -f "$old" "${old%.packages}".tar.*; fi
  done
  printf '%s\n' "suite $suite" "variant $variant" "mirror $mirror" "security $security" "include ${include[*]}" \
    >"${tarball%.$ext}.packages"
  mv "$tarball.part" "$tarball"
  rm -rf --one-file-system "$build"
  took "debootstrap and cache"
else
  say "the $suite $variant root from the cache: $tarball"
fi
mkdir "$root"
tar -C "$root" --numeric-owner --xattrs $compress -xf "$tarball"
exec 9>&-
took "extract"

mount -t proc proc "$root/proc"; mounts+=("$root/proc")
cp /etc/resolv.conf "$root/etc/resolv.conf"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

# --- install ---------------------------------------------------------------------------
# Nothing the install brings may start a service.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"; chmod 755 "$root/usr/sbin/policy-rc.d"
[ ! -e "$root/usr/sbin/overcast" ] || fail "the clean root already has /usr/sbin/overcast"
cp "$deb" "$root/tmp/"
say "apt-get install ./tmp/$(basename "$deb") (Depends from $mirror)"
in_root apt-get update -qq >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; fail "apt-get update"; }
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "./tmp/$(basename "$deb")" >>"$work/apt.log" 2>&1 \
  || { tail -40 "$work/apt.log" >&2; fail "apt-get install of the package"; }
sed -n 's/^Setting up \([^ ]*\) .*/\1/p' "$work/apt.log" | tr '\n' ' ' | sed 's/^/install-test: set up: /; s/ $/\n/'
in_root dpkg-query -W -f='${Status}' overcast | grep -q 'install ok installed' || fail "overcast is not installed"
took "install"

say "no Swift in the root"
swift=$(find "$root" -xdev \( -name 'libswift*.so*' -o -name 'libFoundation*.so*' -o -name 'libdispatch.so*' \
  -o \( -name swift -type f \) -o -name 'swift-*' -o -path '*/lib/swift' \) -print | sed "s|^$root||")
[ -z "$swift" ] || fail "Swift in the root: $swift"
libraries=$(in_root ldd /usr/sbin/overcast) || fail "ldd /usr/sbin/overcast"
if grep -E 'libswift|libFoundation|libdispatch|not found' <<<"$libraries"; then
  fail "/usr/sbin/overcast needs a library the root does not have (above)"
fi
pgrep_root() { local p; for p in /proc/[0-9]*; do [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && echo "${p#/proc/}"; done; true; }
[ -z "$(pgrep_root)" ] || fail "a process runs in the root after the install: $(pgrep_root)"

# --- the installed files run -----------------------------------------------------------
version=$(in_root /usr/sbin/overcast --version) || fail "overcast --version"
say "overcast --version: $version"
expected=$(dpkg-deb -f "$deb" Version)
grep -qF "$expected" <<<"$version" || fail "--version does not say the package's version $expected"
commit=$(sed -n 's/.*(commit \([0-9a-f]\{7,\}\)).*/\1/p' <<<"$version")
[ -n "$commit" ] || fail "--version does not say a commit"
# The package's changelog names the commit it was built from: the binary must be that one.
zcat "$root/usr/share/doc/overcast/changelog.gz" | grep -qF "commit $commit" \
  || fail "--version's commit $commit is not the one in the package's changelog"

say "check-config -f /etc/overcast/overcast.conf (the shipped example)"
in_root /usr/sbin/overcast check-config -f /etc/overcast/overcast.conf || fail "check-config on the shipped example"

for page in overcast overcast.run; do
  where=$(in_root man --where "$page") || fail "man --where $page: no page"
  text=$(in_root env MANPAGER=cat MANWIDTH=80 man "$page" 2>"$work/man.err") || { cat "$work/man.err" >&2; fail "man $page"; }
  [ ! -s "$work/man.err" ] || { cat "$work/man.err" >&2; fail "man $page warns"; }
  grep -q '^NAME' <<<"$text" && grep -q '^SYNOPSIS' <<<"$text" || fail "man $page has no NAME and SYNOPSIS"
  say "man $page renders ($where, $(wc -l <<<"$text") lines)"
done
in_root whatis overcast.run >/dev/null || fail "whatis overcast.run (mandb did not index the page)"
took "version, check-config, man"

# --- systemd-analyze verify ------------------------------------------------------------
# The template is verified as an instance (verify cannot load a bare template).
units=(overcast.service overcast-replicate@eth0.service overcast-overlay.service)
say "systemd-analyze verify ${units[*]}"
for unit in overcast.service overcast-replicate@.service overcast-overlay.service; do
  [ -f "$root/lib/systemd/system/$unit" ] || fail "/lib/systemd/system/$unit is not installed"
done
# Inside the root, verify loads the units and what they name from the root's
# /lib/systemd/system, checks the first command of each Exec*= list is executable there
# and runs `man` for each Documentation=man: page (the root has man-db). No systemd runs in a
# chroot; systemd 252's verify does not need one and says nothing about it here, so no
# line of its output is filtered: any output or a non-zero exit is a unit error.
verify_status=0
verify=$(in_root systemd-analyze verify "${units[@]/#//lib/systemd/system/}" 2>&1) || verify_status=$?
if [ -n "$verify" ] || [ "$verify_status" != 0 ]; then
  echo "$verify" >&2
  fail "systemd-analyze verify (exit $verify_status)"
fi
# verify checks only the head of each Exec*= list (ExecReload's /bin/kill after the
# check-config is not looked at); every command must be there, as systemd runs them all.
# A "-" command may fail (ExecStartPre=-/sbin/modprobe: kmod need not be installed), as
# systemd itself treats it.
for unit in overcast.service overcast-replicate@.service overcast-overlay.service; do
  while IFS= read -r command; do
    case $command in -*|[@:+!]-*|[@:+!][@:+!]-*) continue ;; esac
    path=${command##[@:+!]}; path=${path##[@:+!]}; path=${path%% *}
    case $path in /*) ;; *) fail "$unit: $command: not an absolute path" ;; esac
    in_root test -x "$path" || fail "$unit: $path is not in the root (Exec line: $command); a Depends is missing"
  done < <(sed -n 's/^Exec[A-Za-z]*=//p' "$root/lib/systemd/system/$unit")
done
took "systemd-analyze verify"

# --- two daemons from the root on a namespace lab --------------------------------------
# The namespaces carry this shell's pid (ovc<pid>x...), as the labs' do: scripts/test.sh's
# leak check finds them if anything ever leaves one behind.
ns1=ovc$$x1-install-n1
ns2=ovc$$x1-install-n2
ip netns add "$ns1"; namespaces+=("$ns1")
ip netns add "$ns2"; namespaces+=("$ns2")
ip -n "$ns1" link add eth0 type veth peer name eth0 netns "$ns2"
ip -n "$ns1" addr add 172.31.18.10/16 dev eth0
ip -n "$ns2" addr add 172.31.18.11/16 dev eth0
for ns in "$ns1" "$ns2"; do ip -n "$ns" link set lo up; ip -n "$ns" link set eth0 up; done
vip=192.168.20.11
config() { # priority source peer
  cat <<EOF
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority $1
  version 3
  advert_int 0.2
  unicast_src_ip $2
  unicast_peer {
    $3
  }
  virtual_ipaddress {
    $vip/32
  }
}
EOF
}
config 150 172.31.18.10 172.31.18.11 >"$root/etc/overcast/test-n1.conf"
config 100 172.31.18.11 172.31.18.10 >"$root/etc/overcast/test-n2.conf"
# ip netns exec gives the command a mount namespace of its own with /sys of the network
# namespace; inside it, the root gets that /sys too (the mount goes away with the daemon).
start_daemon() { # namespace config log
  ip netns exec "$1" sh -c 'mount -t sysfs sysfs "$1/sys" && exec chroot "$1" /usr/sbin/overcast run -f "$2" --log-level debug' \
    daemon "$root" "$2" >"$3" 2>&1 &
  pids+=($!)
}
state() { ip netns exec "$1" chroot "$root" /usr/sbin/overcast status 2>/dev/null | sed -n 's/^VI_1: \([A-Z]*\) .*/\1/p'; }
has_vip() { ip -n "$1" -o addr show dev eth0 | grep -qF " $vip/32 "; }
# Waits up to 30 s for a condition (a command), printing the logs when it never holds.
wait_for() { # what command...
  local what=$1; shift
  local deadline=$(($(date +%s) + 30))
  until "$@"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      local log
      for log in "$work"/n1.log "$work"/n2.log; do
        [ -f "$log" ] && { echo "--- $(basename "$log")" >&2; tail -30 "$log" >&2; }
      done
      fail "timed out waiting for $what"
    fi
    sleep 0.2
  done
}
is() { [ "$(state "$1")" = "$2" ]; }
# The daemons start on links that are up (a veth's carrier comes a moment after both ends).
link_up() { ip -n "$1" -o link show dev eth0 | grep -q 'state UP'; }
wait_for "eth0 up in $ns1" link_up "$ns1"
wait_for "eth0 up in $ns2" link_up "$ns2"
start_daemon "$ns1" /etc/overcast/test-n1.conf "$work/n1.log"; pid1=${pids[-1]}
start_daemon "$ns2" /etc/overcast/test-n2.conf "$work/n2.log"; pid2=${pids[-1]}
say "two daemons from the root in $ns1 (priority 150, pid $pid1) and $ns2 (priority 100, pid $pid2)"

wait_for "n1 MASTER" is "$ns1" MASTER
wait_for "n2 BACKUP" is "$ns2" BACKUP
wait_for "the VIP on n1" has_vip "$ns1"
! has_vip "$ns2" || fail "the VIP is on n2 too"
for pid in "$pid1" "$pid2"; do
  [ "$(readlink "/proc/$pid/root")" = "$root" ] || fail "daemon $pid does not run in the root"
  [ "$(readlink "/proc/$pid/exe")" = "$root/usr/sbin/overcast" ] || fail "daemon $pid is not /usr/sbin/overcast"
done
say "n1 MASTER with $vip, n2 BACKUP (both /usr/sbin/overcast of the root)"
took "election"

kill -TERM "$pid1"
wait "$pid1" && stopped=0 || stopped=$?
pids=("$pid2")   # the trap must never signal a pid that has been reused
[ "$stopped" = 0 ] || { tail -20 "$work/n1.log" >&2; fail "n1 exited $stopped on SIGTERM"; }
! has_vip "$ns1" || fail "n1 left the VIP behind after SIGTERM"
wait_for "n2 MASTER" is "$ns2" MASTER
wait_for "the VIP on n2" has_vip "$ns2"
say "SIGTERM to n1: it left the VIP, n2 took over as MASTER with $vip"
took "failover"
kill -TERM "$pid2"
wait "$pid2" || fail "n2 exited $? on SIGTERM"
pids=()
for ns in "${namespaces[@]}"; do ip netns delete "$ns"; done
namespaces=()
rm "$root/etc/overcast/test-n1.conf" "$root/etc/overcast/test-n2.conf"

# --- remove and purge ------------------------------------------------------------------
files=(/usr/sbin/overcast /lib/systemd/system/overcast.service /lib/systemd/system/overcast-replicate@.service
       /lib/systemd/system/overcast-overlay.service /usr/share/man/man8/overcast.8.gz /usr/share/man/man8/overcast.run.8.gz
       /usr/share/bash-completion/completions/overcast /usr/share/doc/overcast/copyright)
conffiles=(/etc/overcast/overcast.conf /etc/default/overcast)
say "dpkg -r overcast"
in_root dpkg -r overcast >"$work/dpkg-r.log" 2>&1 || { cat "$work/dpkg-r.log" >&2; fail "dpkg -r"; }
for f in "${files[@]}"; do [ ! -e "$root$f" ] || fail "dpkg -r left $f"; done
for f in "${conffiles[@]}"; do [ -e "$root$f" ] || fail "dpkg -r removed the conffile $f"; done
in_root man --where overcast >/dev/null 2>&1 && fail "man still finds overcast after dpkg -r"
say "dpkg --purge overcast"
in_root dpkg --purge overcast >"$work/dpkg-purge.log" 2>&1 || { cat "$work/dpkg-purge.log" >&2; fail "dpkg --purge"; }
for f in "${conffiles[@]}" /etc/overcast; do [ ! -e "$root$f" ] || fail "dpkg --purge left $f"; done
in_root dpkg-query -W overcast >/dev/null 2>&1 && fail "dpkg still knows overcast after --purge"
took "remove and purge"

say "passed ($(($(date +%s) - started)) s)"
