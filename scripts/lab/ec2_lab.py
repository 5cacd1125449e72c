#!/usr/bin/env python3
"""The EC2 side of Overcast's test beds, in one process:

- moto's EC2 API on 127.0.0.1 (the real route-table logic, never real AWS);
- a proxy in front of it that checks every request's SigV4 signature against the
  specification (so what libcurl signs would be accepted by AWS), knows which keys are
  valid and until when, injects faults on request (throttling, 503, a hang, a slow answer, malformed
  XML, expired credentials) and logs every call;
- an IMDSv2 emulator (which can be made unreachable) (token PUT with TTL, token-checked GETs) answering each lab node,
  told apart by its source address, with its own instance id, region, ENI and
  short-lived instance-role credentials.

It creates the VPC, route table and instances it was asked for, writes their ids as
JSON to --out and prints "ready". Control: POST /_control (JSON) and GET /_log on the
proxy port. Test-bed code only: nothing here ships in the daemon.

Shared by many labs (the VPC fabric's control plane, vpc_lab.py): POST /_lab builds a
VPC per lab and opens a "front" for it, a proxy and an IMDS of its own on fresh ports
with their own faults and log, so labs that run at once do not see each other's faults.
A front's connections come through a lab relay that first sends one line, "LAB
<client-ip>", because the relay hides the node's address. GET /_generation counts the
changes made to moto (writes through any proxy, /_lab operations), so the fabric reads
moto again only when something changed.
"""
import argparse, datetime, http.client, json, os, re, secrets, sys, threading, time
import sigv4
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

LOCK = threading.Lock()
KEYS = {}        # access key id -> {"secret", "token", "expires"}
IMDS_TOKENS = {} # token -> (front, client ip, expires)
ARGS = None
RESOURCES = {}
GENERATION = [0] # changes made to moto so far
CHANGED = threading.Condition(LOCK)


class Front:
    """What one lab sees: its proxy's faults and log, its IMDS's role and identities."""

    def __init__(self, vpc=None, lab_line=False):
        self.log = []          # one dict per API call seen by the proxy
        self.fault = {}        # {"kind", "count", "actions", "seconds"}
        self.identities = {}   # client ip -> {"instance_id", "eni", "mac"}
        self.role = {"name": "overcast-lab-role", "ttl": 900}
        self.role_creds = {}   # client ip -> (key id, issued)
        self.vpc = vpc         # identities come from this VPC's ENIs in moto
        self.lab_line = lab_line
        self.imds_down = False # IMDS holds every request, then drops it
        self.servers = []

    def identity(self, ip):
        if ip in self.identities:
            return self.identities[ip]
        if self.vpc is not None:
            import vpc_lab
            return vpc_lab.identity(self.vpc, ip)
        return None


DEFAULT = Front()


def bump():
    with CHANGED:
        GENERATION[0] += 1
        CHANGED.notify_all()


class LabLine:
    """Reads the "LAB <client-ip>" line a lab relay sends first on a front's connection."""
    lab_client = None

    def setup(self):
        super().setup()
        # Only relayed connections carry the line; the lab's own control calls do not
        # (no HTTP method starts with "L").
        if self.server.front.lab_line and self.rfile.peek(1)[:1] == b"L":
            line = self.rfile.readline(200).decode("ascii", "replace").split()
            if len(line) == 2 and line[0] == "LAB":
                self.lab_client = line[1]

    def who(self):
        return self.lab_client or self.client_address[0]


def error_xml(code, message):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>%s</Code><Message>%s</Message>'
            '</Error></Errors><RequestID>%s</RequestID></Response>' % (code, message, secrets.token_hex(8))).encode()


class Proxy(LabLine, BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm
    # and the client's delayed ACK would add 40 ms to every answer.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="text/xml;charset=UTF-8"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/_resources":
            return self.reply(200, json.dumps(RESOURCES).encode(), "application/json")
        if self.path == "/_time":  # this host's wall clock, for a VM's soak to map the log's times
            return self.reply(200, repr(time.time()).encode(), "text/plain")
        if self.path.startswith("/_log"):
            with LOCK:
                body = json.dumps(self.server.front.log).encode()
            return self.reply(200, body, "application/json")
        if self.path.startswith("/_generation"):
            # ?after=N waits (up to 2 s) for a change past N: the fabric hears of one at once.
            after = int(self.path.partition("after=")[2] or -1)
            with CHANGED:
                CHANGED.wait_for(lambda: GENERATION[0] > after, timeout=2)
                body = str(GENERATION[0]).encode()
            return self.reply(200, body, "text/plain")
        self.reply(404, b"")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/_control":
            return self.control(json.loads(body or b"{}"))
        if self.path == "/_lab":
            import vpc_lab
            try:
                result = vpc_lab.handle(json.loads(body or b"{}"), open_front, close_front, ARGS)
            except Exception as error:  # the lab's own request was wrong: say what, keep serving
                return self.reply(400, json.dumps({"error": "%s: %s" % (type(error).__name__, error)}).encode(),
                                  "application/json")
            bump()
            return self.reply(200, json.dumps(result).encode(), "application/json")
        params = dict(parse_qsl(body.decode("utf-8", "replace")))
        action = params.get("Action", "?")
        entry = {"time": time.time(), "client": self.who(), "action": action,
                 "params": {k: v for k, v in params.items() if k not in ("Action", "Version")}}
        status, payload = self.answer(action, body)
        entry["done"] = time.time()
        entry["status"] = status
        m = re.search(rb"<Code>([^<]+)</Code>", payload or b"")
        entry["code"] = m.group(1).decode() if m else None
        with LOCK:
            self.server.front.log.append(entry)
        if status == 200 and not action.startswith(("Describe", "Get")):
            bump()
        if payload is None:  # a hang: never answer, then drop the connection
            self.close_connection = True
            return
        self.reply(status, payload)

    def answer(self, action, body):
        front = self.server.front
        with LOCK:
            fault = dict(front.fault) if front.fault and front.fault.get("count", 0) > 0 and \
                action in front.fault.get("actions", [action]) else None
            if fault:
                front.fault["count"] -= 1
        if fault:
            kind = fault["kind"]
            if kind == "throttle":
                return 503, error_xml("RequestLimitExceeded", "Request limit exceeded.")
            if kind == "unavailable":
                return 503, b"<html><body>503 Service Unavailable</body></html>"
            if kind == "internal":
                return 500, error_xml("InternalError", "An internal error has occurred")
            if kind == "hang":
                time.sleep(fault.get("seconds", 10))
                return 0, None
            if kind == "slow":  # held, then answered as usual
                time.sleep(fault.get("seconds", 0.5))
            if kind == "malformed":
                return 200, b'<?xml version="1.0" encoding="UTF-8"?>\n<%sResponse><requestId>1</requestId><retu' % action.encode()
            if kind == "expired":
                return 400, error_xml("ExpiredToken", "The security token included in the request is expired")
            if kind == "denied":
                return 403, error_xml("UnauthorizedOperation", "You are not authorized to perform this operation.")
        with LOCK:
            keys = dict(KEYS)
        problem = sigv4.check("POST", self.path, self.headers, body, keys, ARGS.region)
        if problem:
            return problem[0], error_xml(problem[1], problem[2])
        # moto carries out a write sent with DryRun=true; AWS answers that it would have
        # succeeded and changes nothing. Permission faults above come first, as in AWS.
        if not action.startswith("Describe") and dict(parse_qsl(body.decode("utf-8", "replace"))).get("DryRun") == "true":
            return 412, error_xml("DryRunOperation", "Request would have succeeded, but DryRun flag is set.")
        # One kept-alive connection to moto per client connection (this handler's thread).
        if getattr(self, "moto", None) is None:
            self.moto = http.client.HTTPConnection("127.0.0.1", ARGS.moto_port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
        try:
            self.moto.request("POST", "/", body=body, headers=headers)
            r = self.moto.getresponse()
            return r.status, r.read()
        except (http.client.HTTPException, OSError):
            self.moto.close()
            self.moto = http.client.HTTPConnection("127.0.0.1", ARGS.moto_port, timeout=30)
            self.moto.request("POST", "/", body=body, headers=headers)
            r = self.moto.getresponse()
            return r.status, r.read()

    def control(self, command):
        front = self.server.front
        with LOCK:
            if "fault" in command:
                front.fault.clear()
                front.fault.update(command["fault"] or {})
            if "clear_log" in command:
                front.log.clear()
            if "role_ttl" in command:
                front.role["ttl"] = command["role_ttl"]
                front.role_creds.clear()
            if "imds_down" in command:
                front.imds_down = bool(command["imds_down"])
            if "expire_keys" in command:
                for key in KEYS.values():
                    if key["token"] is not None:
                        key["expires"] = time.time() - 1
                front.role_creds.clear()  # IMDS hands out fresh ones from now on
        self.reply(200, b"{}", "application/json")


class IMDS(LabLine, BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def reply(self, status, body):
        body = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def unreachable(self):
        """IMDS down: the request is held, then the connection dropped unanswered."""
        if not self.server.front.imds_down:
            return False
        time.sleep(2)
        self.close_connection = True
        return True

    def do_PUT(self):
        if self.unreachable():
            return
        if self.path != "/latest/api/token":
            return self.reply(404, "")
        try:
            ttl = int(self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", ""))
        except ValueError:
            return self.reply(400, "missing or invalid X-aws-ec2-metadata-token-ttl-seconds")
        if not 1 <= ttl <= 21600:
            return self.reply(400, "TTL out of range")
        token = secrets.token_urlsafe(32)
        with LOCK:
            IMDS_TOKENS[token] = (self.server.front, self.who(), time.time() + ttl)
        self.reply(200, token)

    def do_GET(self):
        if self.unreachable():
            return
        front = self.server.front
        with LOCK:
            held = IMDS_TOKENS.get(self.headers.get("X-aws-ec2-metadata-token", ""))
        if held is None or held[0] is not front or held[1] != self.who() or time.time() > held[2]:
            return self.reply(401, "")  # IMDSv2 only: no token, no answer
        identity = front.identity(self.who())
        if identity is None:
            return self.reply(404, "")
        p = self.path
        if p == "/latest/meta-data/instance-id":
            return self.reply(200, identity["instance_id"])
        if p == "/latest/meta-data/placement/region":
            return self.reply(200, ARGS.region)
        if p == "/latest/meta-data/network/interfaces/macs/%s/interface-id" % identity["mac"].lower():
            return self.reply(200, identity["eni"])
        if p == "/latest/meta-data/iam/security-credentials/":
            return self.reply(200, front.role["name"])
        if p == "/latest/meta-data/iam/security-credentials/" + front.role["name"]:
            return self.reply(200, json.dumps(self.role_credentials()))
        self.reply(404, "")

    def role_credentials(self):
        """Temporary credentials per node, re-issued once half their life has passed."""
        client = self.who()
        front = self.server.front
        now = time.time()
        with LOCK:
            current = front.role_creds.get(client)
            if current is None or now > current[1] + front.role["ttl"] / 2:
                key_id = "ASIA" + secrets.token_hex(8).upper()
                KEYS[key_id] = {"secret": secrets.token_urlsafe(30), "token": secrets.token_urlsafe(60),
                                "expires": now + front.role["ttl"]}
                front.role_creds[client] = (key_id, now)
                current = front.role_creds[client]
            key = KEYS[current[0]]
        expiration = datetime.datetime.fromtimestamp(key["expires"], datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": current[0], "SecretAccessKey": key["secret"],
                "Token": key["token"], "Expiration": expiration}


def serve(server, front):
    server.front = front
    server.daemon_threads = True
    front.servers.append(server)
    SERVERS.append(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def open_front(vpc):
    """A proxy and an IMDS of a lab's own, on fresh ports, for VPC `vpc`."""
    front = Front(vpc=vpc, lab_line=True)
    proxy = serve(ThreadingHTTPServer((ARGS.bind, 0), Proxy), front)
    imds = serve(ThreadingHTTPServer((ARGS.bind, 0), IMDS), front)
    return {"proxy_port": proxy, "imds_port": imds}


def close_front(proxy_port):
    for server in [s for s in list(SERVERS) if s.server_address[1] == proxy_port]:
        for other in server.front.servers:
            other.shutdown()
            other.server_close()
        server.front.servers.clear()
    SERVERS[:] = [s for s in SERVERS if s.front.servers]


SERVERS = []


def setup_ec2(count, source_dest_check):
    if count == 0:
        return {"vpc": "", "route_tables": [], "instances": []}
    import boto3
    ec2 = boto3.client("ec2", endpoint_url="http://127.0.0.1:%d" % ARGS.moto_port, region_name=ARGS.region,
                       aws_access_key_id="AKIDLABSETUP", aws_secret_access_key="setup")
    vpc = ec2.create_vpc(CidrBlock="172.31.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="172.31.1.0/24")["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    second = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    image = ec2.describe_images()["Images"][0]["ImageId"]
    instances = []
    for _ in range(count):
        i = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnet)["Instances"][0]
        if not source_dest_check:
            ec2.modify_instance_attribute(InstanceId=i["InstanceId"], SourceDestCheck={"Value": False})
        eni = i["NetworkInterfaces"][0]
        instances.append({"id": i["InstanceId"], "eni": eni["NetworkInterfaceId"], "mac": eni["MacAddress"]})
    return {"vpc": vpc, "route_tables": [table, second], "instances": instances}


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--moto-port", type=int, required=True)
    p.add_argument("--proxy-port", type=int, required=True)
    p.add_argument("--imds-port", type=int, default=0)
    p.add_argument("--region", default="eu-west-1")
    p.add_argument("--key", action="append", default=[],
                   help="AKID:SECRET accepted as long-term keys (default: the lab's, as Sources/Lab/EC2Lab.swift has them)")
    p.add_argument("--instances", type=int, default=2, help="instances of the default VPC (0: none, for vpc_lab.py's labs)")
    p.add_argument("--identity", action="append", default=[], help="client IP of instance n, in order")
    p.add_argument("--source-dest-check", choices=["on", "off"], default="off")
    p.add_argument("--out", required=True)
    p.add_argument("--exit-with-parent", action="store_true", help="end when the process that started this one ends")
    ARGS = p.parse_args()
    if ARGS.exit_with_parent:
        parent = os.getppid()

        def watch_parent():
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(0)
        threading.Thread(target=watch_parent, daemon=True).start()
    from moto.server import ThreadedMotoServer
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=ARGS.moto_port, verbose=False)
    moto.start()
    for pair in ARGS.key or ["AKIDOVERCASTLAB0001:overcast-lab-secret"]:
        key_id, secret = pair.split(":", 1)
        KEYS[key_id] = {"secret": secret, "token": None, "expires": None}
    ids = setup_ec2(ARGS.instances, ARGS.source_dest_check == "on")
    for ip, instance in zip(ARGS.identity, ids["instances"]):
        DEFAULT.identities[ip] = {"instance_id": instance["id"], "eni": instance["eni"], "mac": instance["mac"]}
    RESOURCES.update(ids)
    with open(ARGS.out, "w") as f:
        json.dump(ids, f)
    servers = [ThreadingHTTPServer((ARGS.bind, ARGS.proxy_port), Proxy)]
    if ARGS.imds_port:
        servers.append(ThreadingHTTPServer((ARGS.bind, ARGS.imds_port), IMDS))
    for s in servers:
        serve(s, DEFAULT)
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
