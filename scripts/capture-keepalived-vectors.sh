#!/usr/bin/env bash
# Captures real VRRP advertisements from stock keepalived and writes them as codec test
# vectors to Tests/VRRPTests/KeepalivedVectors.swift.
#
# Run as root on a machine with keepalived, tcpdump, iproute2 and python3:
#     sudo scripts/capture-keepalived-vectors.sh [OUTPUT.swift]
# Set KEEP_WORK=1 to keep the temporary directory (configs, keepalived logs, pcaps).
#
# Everything happens inside throwaway network namespaces (ovcap-sw, ovcap-a, ovcap-b):
# a switch namespace with a bridge, and two nodes with veth ports on it
# (172.31.18.163/16 and 172.31.18.164/16). Stock keepalived runs as MASTER in ovcap-a
# only, once per case, while tcpdump captures protocol 112 on ovcap-a's port; SIGTERM
# then makes keepalived send its priority-0 advertisement, which is captured too.
# No traffic is sent in the root namespace. The lab is torn down on exit, also on failure.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
OUTPUT=${1:-$REPO_DIR/Tests/VRRPTests/KeepalivedVectors.swift}

NS_SW=ovcap-sw
NS_A=ovcap-a
NS_B=ovcap-b
ADDR_A=172.31.18.163
ADDR_B=172.31.18.164
PREFIX=16
IFACE=veth0          # the node-side port name inside ovcap-a / ovcap-b
VRID=51

die() { echo "capture-keepalived-vectors: error: $*" >&2; exit 1; }
log() { echo "capture-keepalived-vectors: $*" >&2; }
ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qxF "$1"; }

[ "$(id -u)" = 0 ] || die "must run as root (network namespaces, keepalived, tcpdump)"
for cmd in keepalived tcpdump ip python3; do
  command -v "$cmd" >/dev/null 2>&1 || die "'$cmd' not found (install keepalived, tcpdump, iproute2, python3)"
done

WORK=$(mktemp -d /tmp/ovcap.XXXXXX)
PIDS=()

cleanup() {
  local rc=$?
  set +e
  local pid ns
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  # Anything still running inside our own namespaces (keepalived's VRRP child, tcpdump).
  for ns in "$NS_A" "$NS_B" "$NS_SW"; do
    if ns_exists "$ns"; then
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null; done
    fi
  done
  sleep 0.3
  for ns in "$NS_A" "$NS_B" "$NS_SW"; do
    if ns_exists "$ns"; then
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
      ip netns delete "$ns" 2>/dev/null
    fi
  done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  if [ -n "${KEEP_WORK:-}" ]; then
    log "work directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------- lab
for ns in "$NS_A" "$NS_B" "$NS_SW"; do
  if ns_exists "$ns"; then
    die "namespace $ns already exists (left over from an earlier run?); delete it with 'ip netns delete $ns'"
  fi
done

log "building lab namespaces $NS_SW, $NS_A, $NS_B"
ip netns add "$NS_SW"
ip netns add "$NS_A"
ip netns add "$NS_B"
ip -n "$NS_SW" link add br0 type bridge
ip -n "$NS_SW" link set br0 up
ip -n "$NS_SW" link set lo up
for node in a b; do
  ns=ovcap-$node
  # Created directly inside the namespaces: nothing ever appears in the root namespace.
  ip -n "$ns" link add "$IFACE" type veth peer name "port-$node" netns "$NS_SW"
  ip -n "$NS_SW" link set "port-$node" master br0
  ip -n "$NS_SW" link set "port-$node" up
  ip -n "$ns" link set lo up
done
ip -n "$NS_A" addr add "$ADDR_A/$PREFIX" dev "$IFACE"
ip -n "$NS_B" addr add "$ADDR_B/$PREFIX" dev "$IFACE"
ip -n "$NS_A" link set "$IFACE" up
ip -n "$NS_B" link set "$IFACE" up

# Read the whole output first: with pipefail, 'keepalived -v | head -n1' can die of SIGPIPE.
KA_VERSION_OUT=$(keepalived -v 2>&1 || true)
KA_VERSION=$(printf '%s\n' "$KA_VERSION_OUT" | sed -n -e '1{s/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e 'p' -e '}')
[ -n "$KA_VERSION" ] || die "could not read the keepalived version (keepalived -v)"
log "using $KA_VERSION"

# ------------------------------------------------------------------------------ cases
# name|vrrp version|unicast (0/1)|auth pass ("" = none)|advert_int|virtual addresses (comma separated)
CASES=(
  "v2-multicast-none|2|0||1|192.168.20.11"
  "v2-multicast-pass|2|0|1111|1|192.168.20.11"
  "v2-unicast-none|2|1||1|192.168.20.11"
  "v2-unicast-pass|2|1|1111|1|192.168.20.11"
  "v3-multicast-none|3|0||1|192.168.20.11"
  "v3-unicast-none|3|1||1|192.168.20.11"
  "v3-multicast-none-int50cs|3|0||0.5|192.168.20.11"
  "v2-multicast-none-3vips|2|0||1|192.168.20.11,192.168.20.12,10.0.0.1"
)
PRIORITY=150

write_config() { # name version unicast pass advert vips -> config path
  local name=$1 version=$2 unicast=$3 pass=$4 advert=$5 vips=$6
  local conf=$WORK/$name/keepalived.conf
  {
    echo "global_defs {"
    echo "    router_id ovcap_a"
    echo "    vrrp_version $version"
    echo "}"
    echo "vrrp_instance VI_1 {"
    echo "    state MASTER"
    echo "    interface $IFACE"
    echo "    virtual_router_id $VRID"
    echo "    priority $PRIORITY"
    echo "    advert_int $advert"
    echo "    version $version"
    if [ "$unicast" = 1 ]; then
      echo "    unicast_src_ip $ADDR_A"
      echo "    unicast_peer {"
      echo "        $ADDR_B"
      echo "    }"
    fi
    if [ -n "$pass" ]; then
      echo "    authentication {"
      echo "        auth_type PASS"
      echo "        auth_pass $pass"
      echo "    }"
    fi
    echo "    virtual_ipaddress {"
    local vip
    IFS=, read -r -a vip_list <<<"$vips"
    for vip in "${vip_list[@]}"; do echo "        $vip"; done
    echo "    }"
    echo "}"
  } >"$conf"
  echo "$conf"
}

# Counts packets in a pcap written so far (tcpdump -U flushes per packet).
# The file may be empty or end mid-packet while tcpdump is still writing: never fail here.
count_packets() { { tcpdump -r "$1" -n 2>/dev/null || true; } | wc -l; }

wait_for_exit() { # pid timeout_tenths
  local pid=$1 n=$2
  while kill -0 "$pid" 2>/dev/null && [ "$n" -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
  ! kill -0 "$pid" 2>/dev/null
}

remove_pid() {
  local pid=$1 kept=() p
  for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
  PIDS=("${kept[@]}")
}

MANIFEST=$WORK/manifest.tsv
: >"$MANIFEST"

for spec in "${CASES[@]}"; do
  IFS='|' read -r name version unicast pass advert vips <<<"$spec"
  dir=$WORK/$name
  mkdir -p "$dir"
  conf=$(write_config "$name" "$version" "$unicast" "$pass" "$advert" "$vips")
  pcap=$dir/capture.pcap
  log "case $name"

  # Capture first, so the first advertisement is not missed.
  ip netns exec "$NS_A" tcpdump -i "$IFACE" -U -Z root -n -w "$pcap" 'ip proto 112' \
    >"$dir/tcpdump.out" 2>"$dir/tcpdump.err" &
  tcpdump_pid=$!
  PIDS+=("$tcpdump_pid")
  for _ in $(seq 50); do
    grep -q "listening on" "$dir/tcpdump.err" 2>/dev/null && break
    kill -0 "$tcpdump_pid" 2>/dev/null || break
    sleep 0.1
  done
  grep -q "listening on" "$dir/tcpdump.err" 2>/dev/null ||
    die "tcpdump did not start in $NS_A for case $name: $(cat "$dir/tcpdump.err")"

  ip netns exec "$NS_A" keepalived -f "$conf" -p "$dir/keepalived.pid" -r "$dir/vrrp.pid" \
    -n -l -D --vrrp >"$dir/keepalived.log" 2>&1 &
  ka_pid=$!
  PIDS+=("$ka_pid")

  # Run for ~3 s; allow up to 10 s for the first two advertisements (a MASTER below
  # priority 255 may take a moment), then stop keepalived so it sends priority 0.
  elapsed=0
  while :; do
    sleep 0.5
    elapsed=$((elapsed + 5))
    kill -0 "$ka_pid" 2>/dev/null ||
      die "keepalived exited early in case $name; its log ($dir/keepalived.log):
$(cat "$dir/keepalived.log")"
    n=$(count_packets "$pcap")
    if [ "$elapsed" -ge 30 ] && [ "$n" -ge 2 ]; then break; fi
    if [ "$elapsed" -ge 100 ]; then break; fi
  done

  kill -TERM "$ka_pid" 2>/dev/null || true
  wait_for_exit "$ka_pid" 100 || { log "keepalived did not stop after SIGTERM; killing"; kill -KILL "$ka_pid" 2>/dev/null || true; }
  wait "$ka_pid" 2>/dev/null || true
  remove_pid "$ka_pid"
  sleep 0.5 # let the priority-0 advertisement reach the capture
  kill -INT "$tcpdump_pid" 2>/dev/null || true
  wait_for_exit "$tcpdump_pid" 50 || kill -KILL "$tcpdump_pid" 2>/dev/null || true
  wait "$tcpdump_pid" 2>/dev/null || true
  remove_pid "$tcpdump_pid"

  n=$(count_packets "$pcap")
  if [ "$n" -eq 0 ]; then
    die "case $name produced no VRRP packet; keepalived log:
$(cat "$dir/keepalived.log")"
  fi
  log "  captured $n packet(s)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$version" "$unicast" "$pass" "$advert" "$vips" "$pcap" >>"$MANIFEST"
done

# ------------------------------------------------------------------- extract + generate
log "writing $OUTPUT"
mkdir -p "$(dirname "$OUTPUT")"
python3 - "$MANIFEST" "$OUTPUT.tmp" "$KA_VERSION" "$ADDR_A" "$ADDR_B" <<'PY'
import socket, struct, sys

manifest, out_path, ka_version, addr_a, addr_b = sys.argv[1:6]
MCAST = "224.0.0.18"

def fail(msg):
    sys.exit("capture-keepalived-vectors: error: " + msg)

def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        fail(f"{path}: not a pcap file")
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        fail(f"{path}: unknown pcap magic {magic.hex()} (pcapng is not supported)")
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF
    off = 24
    packets = []
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        packets.append(data[off:off + caplen])
        off += caplen
    return linktype, packets

def ip_payload(linktype, frame):
    if linktype == 1:  # Ethernet
        off, etype = 14, struct.unpack("!H", frame[12:14])[0]
        while etype in (0x8100, 0x88A8):
            etype = struct.unpack("!H", frame[off + 2:off + 4])[0]
            off += 4
    elif linktype == 113:  # Linux cooked v1
        off, etype = 16, struct.unpack("!H", frame[14:16])[0]
    elif linktype == 276:  # Linux cooked v2
        off, etype = 20, struct.unpack("!H", frame[0:2])[0]
    elif linktype in (12, 101):  # raw IP
        off, etype = 0, 0x0800
    else:
        fail(f"unsupported pcap link type {linktype}")
    if etype != 0x0800:
        return None
    pkt = frame[off:]
    if len(pkt) < 20 or pkt[0] >> 4 != 4:
        return None
    total = struct.unpack("!H", pkt[2:4])[0]
    if total > len(pkt):
        fail("truncated packet in capture")
    return pkt[:total]  # drop any Ethernet padding

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF

def check_packet(name, pkt, version, unicast, pass_, advert_cs, vips):
    """Validates a packet against the configuration; returns (priority, notes)."""
    notes = []
    ihl = (pkt[0] & 0x0F) * 4
    if pkt[9] != 112:
        fail(f"{name}: IP protocol {pkt[9]}, expected 112")
    if pkt[8] != 255:
        fail(f"{name}: TTL {pkt[8]}, expected 255")
    if csum(pkt[:ihl]) != 0:
        fail(f"{name}: bad IPv4 header checksum")
    src, dst = socket.inet_ntoa(pkt[12:16]), socket.inet_ntoa(pkt[16:20])
    want_dst = addr_b if unicast else MCAST
    if src != addr_a or dst != want_dst:
        fail(f"{name}: {src} -> {dst}, expected {addr_a} -> {want_dst}")
    v = pkt[ihl:]
    if v[0] >> 4 != version or v[0] & 0x0F != 1:
        fail(f"{name}: version/type byte {v[0]:#04x}, expected VRRPv{version} advertisement")
    if v[1] != 51:
        fail(f"{name}: VRID {v[1]}, expected 51")
    prio, count = v[2], v[3]
    if version == 2:
        auth_type, adv_s = v[4], v[5]
        if adv_s * 100 != advert_cs:
            fail(f"{name}: advert interval {adv_s}s in packet, configured {advert_cs}cs")
        addrs = [socket.inet_ntoa(v[8 + 4 * i:12 + 4 * i]) for i in range(count)]
        auth = v[8 + 4 * count:]
        if len(auth) != 8:
            fail(f"{name}: {len(auth)} bytes of authentication data, expected 8")
        if pass_:
            if auth_type != 1 or auth.rstrip(b"\0").decode() != pass_:
                fail(f"{name}: auth type {auth_type} data {auth.hex()}, expected PASS {pass_!r}")
        elif auth_type != 0:
            fail(f"{name}: auth type {auth_type}, expected 0")
        if csum(bytes(v)) != 0:
            fail(f"{name}: VRRPv2 checksum does not verify")
        notes.append("v2 checksum ok (VRRP message only)")
    else:
        adv_cs = struct.unpack("!H", v[4:6])[0] & 0x0FFF
        if v[4] >> 4:
            fail(f"{name}: reserved bits set in v3 interval field")
        if adv_cs != advert_cs:
            fail(f"{name}: advert interval {adv_cs}cs in packet, configured {advert_cs}cs")
        addrs = [socket.inet_ntoa(v[8 + 4 * i:12 + 4 * i]) for i in range(count)]
        if len(v) != 8 + 4 * count:
            fail(f"{name}: {len(v) - 8 - 4 * count} trailing bytes in v3 message")
        def pseudo(d):
            return pkt[12:16] + socket.inet_aton(d) + bytes([0, 112]) + struct.pack("!H", len(v))
        ok = [d for d in dict.fromkeys([dst, MCAST]) if csum(pseudo(d) + bytes(v)) == 0]
        if not ok:
            fail(f"{name}: VRRPv3 checksum does not verify with any pseudo-header")
        notes.append("v3 checksum ok with pseudo-header dst " + " / ".join(ok))
    if sorted(addrs) != sorted(vips):
        fail(f"{name}: addresses {addrs} in packet, configured {vips}")
    if addrs != vips:
        notes.append(f"address order in packet: {addrs}")
    return prio, addrs, notes

entries = []
with open(manifest) as f:
    for line in f:
        name, version, unicast, pass_, advert, vips, pcap = line.rstrip("\n").split("\t")
        version, unicast = int(version), unicast == "1"
        advert_cs = round(float(advert) * 100)
        vips = vips.split(",")
        linktype, frames = read_pcap(pcap)
        pkts = [p for p in (ip_payload(linktype, fr) for fr in frames) if p is not None]
        normal = [p for p in pkts if p[(p[0] & 0x0F) * 4 + 2] != 0]
        shutdown = [p for p in pkts if p[(p[0] & 0x0F) * 4 + 2] == 0]
        if not normal:
            fail(f"case {name}: no normal (priority > 0) advertisement in {len(pkts)} captured packet(s)")
        chosen = [(name, normal[0])]
        if shutdown:
            chosen.append((name + "-shutdown", shutdown[0]))
        else:
            print(f"capture-keepalived-vectors: warning: case {name}: no priority-0 shutdown advertisement", file=sys.stderr)
        for vname, pkt in chosen:
            prio, addrs, notes = check_packet(vname, pkt, version, unicast, pass_ or None, advert_cs, vips)
            print(f"capture-keepalived-vectors:   {vname}: priority {prio}, {len(pkt)} bytes; " + "; ".join(notes), file=sys.stderr)
            entries.append(dict(name=vname, version=version, unicast=unicast, pass_=pass_ or None,
                                advert_cs=advert_cs, prio=prio, vips=addrs, hex=pkt.hex()))

def swift_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

out = []
out.append(f"// Generated by scripts/capture-keepalived-vectors.sh from stock {ka_version}.")
out.append("// Do not edit by hand; rerun the script as root to refresh.")
out.append("struct KeepalivedVector: Sendable {")
out.append('    let name: String          // e.g. "v2-multicast-none"')
out.append("    let version: Int          // 2 or 3")
out.append("    let unicast: Bool")
out.append('    let authPass: String?     // "1111" for PASS cases')
out.append("    let advertIntervalCentiseconds: Int")
out.append("    let priority: Int         // priority in this packet")
out.append("    let virtualAddresses: [String]")
out.append("    let ipv4Hex: String       // whole IPv4 packet, lowercase hex, no spaces")
out.append("}")
out.append("")
out.append("let keepalivedVectors: [KeepalivedVector] = [")
for e in entries:
    out.append("    KeepalivedVector(")
    out.append(f"        name: {swift_str(e['name'])},")
    out.append(f"        version: {e['version']},")
    out.append(f"        unicast: {'true' if e['unicast'] else 'false'},")
    out.append(f"        authPass: {swift_str(e['pass_']) if e['pass_'] else 'nil'},")
    out.append(f"        advertIntervalCentiseconds: {e['advert_cs']},")
    out.append(f"        priority: {e['prio']},")
    out.append(f"        virtualAddresses: [{', '.join(swift_str(a) for a in e['vips'])}],")
    out.append(f"        ipv4Hex: {swift_str(e['hex'])}")
    out.append("    ),")
out.append("]")
with open(out_path, "w") as f:
    f.write("\n".join(out) + "\n")
PY
mv "$OUTPUT.tmp" "$OUTPUT"
log "wrote $(grep -c 'KeepalivedVector(' "$OUTPUT") vectors to $OUTPUT"
