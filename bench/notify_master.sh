#!/bin/bash
# The article's notify_master.sh, as the benchmark runs it: delete the VIP's /32 route
# and create it again pointing at this instance, with the AWS CLI. Only what a lab needs
# changed: the instance id comes from IMDSv2 (a token first, as EC2 requires today), and
# the endpoint, region and keys point at the lab's moto instead of AWS.
# overcast-bench fills in the @...@ values.

VIP=192.168.20.11
ROUTE_TABLE_ID=@ROUTE_TABLE_ID@
TOKEN=`curl -s -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" @IMDS@/latest/api/token`
INSTANCE_ID=`curl -s -H "X-aws-ec2-metadata-token: $TOKEN" @IMDS@/latest/meta-data/instance-id`

export AWS_ACCESS_KEY_ID=@KEY@
export AWS_SECRET_ACCESS_KEY=@SECRET@
export AWS_DEFAULT_REGION=@REGION@

aws --endpoint-url @ENDPOINT@ --region @REGION@ ec2 delete-route --destination-cidr-block $VIP/32 --route-table-id $ROUTE_TABLE_ID
aws --endpoint-url @ENDPOINT@ --region @REGION@ ec2 create-route --destination-cidr-block $VIP/32 --route-table-id $ROUTE_TABLE_ID --instance-id $INSTANCE_ID
