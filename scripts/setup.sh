#!/usr/bin/env bash
# Installs everything Overcast needs to build and to run all three test tiers on a
# fresh Debian 12 machine. Idempotent: a second run installs nothing new.
set -euo pipefail

APT_PACKAGES=(
  # C libraries behind the system-library targets
  libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libcurl4-openssl-dev libpcap-dev pkg-config
  # interop peer, lab and kernel-tier tools
  keepalived ipvsadm tcpdump iproute2 kmod procps psmisc curl openssl
  # the VPC fabric of the labs: bridge filtering, stateful security groups, ARP replies
  nftables ebtables iptables
  qemu-system-x86 linux-image-amd64 busybox-static
  # a real DNS server for DNS_CHECK's integration tests (the binary only, no service)
  dnsmasq-base
  # PCRE2, behind HTTP_GET regex (the CPCRE2 system-library target), as keepalived uses it
  libpcre2-dev
  # libnftables (the library behind nft), behind the CNftables target: the nftables table
  # that drops a no_accept MASTER's VIP traffic (docs/accept-mode.md)
  libnftables-dev
  # scripts/package.sh: dpkg-shlibdeps for the Depends (dpkg-dev), strip (binutils),
  # lexgrog for the man pages (man-db), the package's lint (lintian)
  dpkg-dev binutils man-db lintian
  # scripts/install-test.sh: the clean Debian 12 root (debootstrap), its cached tarball
  # (zstd; gzip without it)
  debootstrap zstd
)
# moto: the EC2 API of the labs; awscli: the article's notify_master.sh, benchmarked;
# aiosmtpd: a real SMTP server for SMTP_CHECK's integration tests and the alert e-mails (SMTPAlertTests)
PIP_PACKAGES=(virtme-ng "moto[server]" awscli aiosmtpd)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Packages installed here must not start services (keepalived's would run on this
  # machine's own network): policy-rc.d refuses every start during the install only.
  policy=/usr/sbin/policy-rc.d
  ours=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; ours=1
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ $ours = 1 ]; then rm -f "$policy"; trap - EXIT; fi
else
  echo "setup: system packages present"
fi

need_pip=0
python3 -c 'import moto.server, flask_cors, aiosmtpd' 2>/dev/null || need_pip=1
command -v vng >/dev/null 2>&1 || need_pip=1
command -v aws >/dev/null 2>&1 || need_pip=1
if [ $need_pip = 1 ]; then
  echo "setup: installing ${PIP_PACKAGES[*]}"
  python3 -m pip install -q --disable-pip-version-check "${PIP_PACKAGES[@]}"
else
  echo "setup: python tools present"
fi

# A keepalived already running here is the machine owner's: the labs run their own
# instances inside their namespaces and never stop or signal anyone else's.
if running=$(pgrep -x keepalived); then
  echo "setup: a keepalived is running here (pid $(echo $running | tr ' ' ',')); it is left alone: the labs run their own"
fi
echo "setup: done"
