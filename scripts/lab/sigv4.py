"""AWS Signature Version 4 checking for the EC2 lab's proxy (ec2_lab.py), written from
AWS's documentation so that what libcurl signs would be accepted by AWS. Test-bed code."""
import datetime, hashlib, hmac, re, time


def sign(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def check(method, path, headers, body, keys, region):
    """SigV4 as AWS specifies it, written from the documentation, against `keys` (access key
    id -> {"secret", "token", "expires"}) for EC2 in `region`. Returns None or (status, code, message)."""
    auth = headers.get("Authorization", "")
    m = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, ?"
                     r"SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})", auth)
    if not m:
        return 400, "IncompleteSignature", "Authorization header missing or not AWS4-HMAC-SHA256"
    key_id, day, scoped, service, signed, signature = m.groups()
    key = keys.get(key_id)
    if key is None:
        return 401, "AuthFailure", "AWS was not able to validate the provided access credentials"
    if key["expires"] is not None and time.time() > key["expires"]:
        return 400, "ExpiredToken", "The security token included in the request is expired"
    if key["token"] is not None and headers.get("X-Amz-Security-Token") != key["token"]:
        return 401, "AuthFailure", "AWS was not able to validate the provided session token"
    if service != "ec2" or scoped != region:
        return 403, "SignatureDoesNotMatch", "Credential should be scoped to ec2 in %s, not %s in %s" % (region, service, scoped)
    amz_date = headers.get("X-Amz-Date", "")
    try:
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return 400, "IncompleteSignature", "X-Amz-Date missing or malformed"
    if not amz_date.startswith(day) or abs(time.time() - when.timestamp()) > 300:
        return 400, "RequestExpired", "Request has expired"
    names = signed.split(";")
    if "host" not in names:
        return 403, "SignatureDoesNotMatch", "host is not a signed header"
    canonical_headers = "".join("%s:%s\n" % (n, " ".join((headers.get(n) or "").split())) for n in names)
    canonical = "\n".join([method, path.split("?")[0] or "/", "", canonical_headers, signed, hashlib.sha256(body).hexdigest()])
    scope = "%s/%s/%s/aws4_request" % (day, region, service)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = sign(("AWS4" + key["secret"]).encode(), day)
    k = sign(sign(sign(k, region), service), "aws4_request")
    expected = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return 403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided"
    return None
