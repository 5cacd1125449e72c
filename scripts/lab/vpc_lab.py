"""VPCs for the lab's fabric, built in moto on request (POST /_lab on ec2_lab.py's proxy).

Each lab describes its VPC the way a user would (a CIDR, subnets in zones, instances at
addresses, security groups, source/dest check) and gets real moto resources back; the
fabric (Sources/Lab/VPCFabric.swift) then reads everything from moto, never from here.
Test-bed code only.
"""
import threading

_CLIENT = []
_IMAGE = []
_LOCK = threading.Lock()


def _source_dest_check(client, instance, eni, value):
    """AWS keeps one flag for an instance and its primary ENI; moto keeps two: set both."""
    if instance:
        client.modify_instance_attribute(InstanceId=instance, SourceDestCheck={"Value": value})
    client.modify_network_interface_attribute(NetworkInterfaceId=eni, SourceDestCheck={"Value": value})


def ec2(args):
    with _LOCK:
        if not _CLIENT:
            import boto3
            _CLIENT.append(boto3.client("ec2", endpoint_url="http://127.0.0.1:%d" % args.moto_port, region_name=args.region,
                                        aws_access_key_id="AKIDLABSETUP", aws_secret_access_key="setup"))
        return _CLIENT[0]


def _permission(command):
    """An IpPermissions entry from {protocol, from, to, cidr | source_group}."""
    protocol = str(command.get("protocol", "-1"))
    entry = {"IpProtocol": protocol}
    if protocol in ("tcp", "udp", "6", "17"):
        entry["FromPort"] = int(command.get("from", 0))
        entry["ToPort"] = int(command.get("to", 65535))
    elif protocol != "-1":
        entry["FromPort"] = entry["ToPort"] = -1
    if "cidr" in command:
        entry["IpRanges"] = [{"CidrIp": command["cidr"]}]
    if "source_group" in command:
        entry["UserIdGroupPairs"] = [{"GroupId": command["source_group"]}]
    return [entry]


def handle(command, open_front, close_front, args):
    client = ec2(args)
    op = command["op"]
    if op == "create_vpc":
        vpc = client.create_vpc(CidrBlock=command["cidr"])["Vpc"]["VpcId"]
        subnets = []
        for subnet in command["subnets"]:
            zone = args.region + subnet.get("zone", "a")
            subnets.append(client.create_subnet(VpcId=vpc, CidrBlock=subnet["cidr"], AvailabilityZone=zone)["Subnet"]["SubnetId"])
        tables = [client.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"] for _ in range(2)]
        for subnet in subnets:
            client.associate_route_table(RouteTableId=tables[0], SubnetId=subnet)
        group = client.create_security_group(VpcId=vpc, GroupName="lab-nodes",
                                             Description="the lab's nodes: everything from each other")["GroupId"]
        client.authorize_security_group_ingress(GroupId=group, IpPermissions=_permission({"source_group": group}))
        front = open_front(vpc)
        return dict(vpc=vpc, subnets=subnets, route_tables=tables, security_group=group, moto_port=args.moto_port, **front)
    if op == "launch":
        if not _IMAGE:
            _IMAGE.append(client.describe_images(MaxResults=5)["Images"][0]["ImageId"])
        i = client.run_instances(ImageId=_IMAGE[0], MinCount=1, MaxCount=1, SubnetId=command["subnet"],
                                 PrivateIpAddress=command["ip"], SecurityGroupIds=command["groups"])["Instances"][0]
        eni = i["NetworkInterfaces"][0]
        if not command.get("source_dest_check", True):
            _source_dest_check(client, i["InstanceId"], eni["NetworkInterfaceId"], False)
        return {"instance": i["InstanceId"], "eni": eni["NetworkInterfaceId"], "mac": eni["MacAddress"]}
    if op == "create_eni":
        eni = client.create_network_interface(SubnetId=command["subnet"], PrivateIpAddress=command["ip"],
                                              Groups=command["groups"])["NetworkInterface"]
        return {"instance": "", "eni": eni["NetworkInterfaceId"], "mac": eni["MacAddress"]}
    if op == "source_dest_check":
        _source_dest_check(client, command.get("instance"), command["eni"], command["value"])
        return {}
    if op == "create_group":
        return {"group": client.create_security_group(VpcId=command["vpc"], GroupName=command["name"],
                                                      Description=command.get("description", command["name"]))["GroupId"]}
    if op in ("authorize", "revoke"):
        egress = command.get("egress", False)
        call = {("authorize", False): client.authorize_security_group_ingress,
                ("authorize", True): client.authorize_security_group_egress,
                ("revoke", False): client.revoke_security_group_ingress,
                ("revoke", True): client.revoke_security_group_egress}[(op, egress)]
        call(GroupId=command["group"], IpPermissions=_permission(command))
        return {}
    if op == "set_route":
        target = {"InstanceId": command["instance"]} if command.get("instance") else {"NetworkInterfaceId": command["eni"]}
        try:
            client.replace_route(RouteTableId=command["table"], DestinationCidrBlock=command["destination"], **target)
        except client.exceptions.ClientError:
            client.create_route(RouteTableId=command["table"], DestinationCidrBlock=command["destination"], **target)
        return {}
    if op == "delete_route":
        client.delete_route(RouteTableId=command["table"], DestinationCidrBlock=command["destination"])
        return {}
    if op == "close":
        ids = [i["InstanceId"] for r in client.describe_instances(Filters=[{"Name": "vpc-id", "Values": [command["vpc"]]}])
               ["Reservations"] for i in r["Instances"]]
        if ids:
            client.terminate_instances(InstanceIds=ids)
        close_front(command["proxy_port"])
        return {}
    raise ValueError("unknown op %r" % op)


def identity(vpc, ip):
    """The instance behind `ip` in `vpc`, as IMDS tells it to that instance."""
    if not _CLIENT:
        return None
    answer = _CLIENT[0].describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                                             {"Name": "addresses.private-ip-address", "Values": [ip]}])
    for eni in answer["NetworkInterfaces"]:
        instance = (eni.get("Attachment") or {}).get("InstanceId")
        if instance:
            return {"instance_id": instance, "eni": eni["NetworkInterfaceId"], "mac": eni["MacAddress"]}
    return None
