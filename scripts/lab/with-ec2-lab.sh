#!/usr/bin/env bash
# Runs COMMAND with the EC2 lab (moto and the signature-checking proxy; see ec2_lab.py)
# on this host's loopback, for a kernel-tier VM to use: Python runs about fifty times
# slower under the VM's emulation and moto would take minutes to start there. Inside the
# VM (virtme-ng user networking) the host's loopback is 10.0.2.2; each lab VPC gets a
# front of its own there (a proxy and an IMDS, vpc_lab.py), which its endpoint node
# relays to (Sources/Lab/TCPRelay.swift).
#
#   scripts/lab/with-ec2-lab.sh COMMAND [ARGS...]
#
# Exports OVERCAST_EC2_LAB=10.0.2.2:MOTO:PROXY:IMDS and KT_NETWORK=user for COMMAND and
# stops the lab afterwards, also on failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
base=$((16000 + ($$ % 200) * 10))
dir=$(mktemp -d "${TMPDIR:-/tmp}/ovc-ec2-host.XXXXXX")
python3 -u "$here/ec2_lab.py" --bind 127.0.0.1 --moto-port "$base" --proxy-port $((base + 1)) --imds-port $((base + 2)) \
  --instances 0 --out "$dir/resources.json" >"$dir/ec2.log" 2>&1 &
lab=$!
trap 'kill $lab 2>/dev/null || true; wait $lab 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 600); do
  grep -qx ready "$dir/ec2.log" 2>/dev/null && break
  kill -0 $lab 2>/dev/null || { echo "the EC2 lab did not start:" >&2; cat "$dir/ec2.log" >&2; exit 1; }
  sleep 0.1
done
grep -qx ready "$dir/ec2.log" || { echo "the EC2 lab did not start within 60 s" >&2; exit 1; }
echo "EC2 lab (moto) on this host: 127.0.0.1:$base-$((base + 3)), 10.0.2.2 from the VM"
export OVERCAST_EC2_LAB="10.0.2.2:$base:$((base + 1)):$((base + 2))"
export KT_NETWORK=user
rc=0
"$@" || rc=$?
exit $rc
