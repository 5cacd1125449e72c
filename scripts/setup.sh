#!/usr/bin/env bash
# Installs everything Overcast needs to build and to run all three test tiers on a
# fresh Debian 12 machine. Idempotent: a second run installs nothing new.
set -euo pipefail

APT_PACKAGES=(
  # C libraries behind the system-library targets
  libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libcurl4-openssl-dev libpcap-dev pkg-config
  # interop peer, lab and kernel-tier tools
  keepalived ipvsadm tcpdump iproute2 kmod procps psmisc curl openssl
  qemu-system-x86 linux-image-amd64 busybox-static
)
# moto: the EC2 API of the labs; awscli: the article's notify_master.sh, benchmarked
PIP_PACKAGES=(virtme-ng "moto[server]" awscli)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: system packages present"
fi

need_pip=0
python3 -c 'import moto.server, flask_cors' 2>/dev/null || need_pip=1
command -v vng >/dev/null 2>&1 || need_pip=1
command -v aws >/dev/null 2>&1 || need_pip=1
if [ $need_pip = 1 ]; then
  echo "setup: installing ${PIP_PACKAGES[*]}"
  python3 -m pip install -q --disable-pip-version-check "${PIP_PACKAGES[@]}"
else
  echo "setup: python tools present"
fi

# keepalived's Debian package starts a service; the labs run their own instances.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet keepalived 2>/dev/null; then
  systemctl stop keepalived || true
fi
pkill -x keepalived 2>/dev/null || true
echo "setup: done"
