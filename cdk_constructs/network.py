"""Network: a VPC with no route to the internet, its flow logs, and the endpoints the job needs.

Secure defaults live here: private isolated subnets only (no NAT gateway, no internet gateway),
flow logs of ALL traffic to a log group encrypted with a key of its own, one security group for
every interface endpoint that admits HTTPS from the VPC's CIDR only, and endpoint policies that
keep traffic to this account's resources.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from .encrypted_log_group import encrypted_log_group

HTTPS = 443

# Interface endpoints: every AWS API the Flink job and its Iceberg/Glue connectors call from the VPC.
# S3 has a gateway endpoint instead (free, and it carries the data traffic).
INTERFACE_ENDPOINTS: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "Glue": ec2.InterfaceVpcEndpointAwsService.GLUE,
    "Kms": ec2.InterfaceVpcEndpointAwsService.KMS,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "Monitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
    "Sts": ec2.InterfaceVpcEndpointAwsService.STS,
}

# What callers inside the VPC may do with S3 through the gateway endpoint: Iceberg's S3FileIO reads,
# writes (multipart included) and deletes objects and lists prefixes; nothing else.
S3_OBJECT_ACTIONS = (
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)
S3_BUCKET_ACTIONS = ("s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads")


def cdk_asset_bucket_name(account: str, region: str, qualifier: str = "hnb659fds") -> str:
    """The bootstrap asset bucket of the default CDK synthesizer (``cdk bootstrap``'s naming)."""
    return f"cdk-{qualifier}-assets-{account}-{region}"


class Network(Construct):
    """The private network. Every created resource is a public attribute."""

    vpc: ec2.Vpc
    flow_log_key: kms.Key
    flow_log_group: logs.LogGroup
    flow_log_role: iam.Role
    flow_log_policy: iam.ManagedPolicy
    flow_log: ec2.FlowLog
    endpoint_security_group: ec2.SecurityGroup
    s3_endpoint: ec2.GatewayVpcEndpoint
    interface_endpoints: dict[str, ec2.InterfaceVpcEndpoint]

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cidr: str,
        max_azs: int,
        flow_log_group_name: str,
        flow_log_retention_days: int,
        s3_bucket_names: Sequence[str],
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    ) -> None:
        """``cidr`` must be the literal CIDR string (not a token): it is also the endpoint security
        group's only ingress source, which cdk-nag's EC23 must be able to read. ``s3_bucket_names``
        are the buckets the S3 gateway endpoint admits besides the CDK asset bucket."""
        super().__init__(scope, construct_id)
        stack = Stack.of(self)

        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            max_azs=max_azs,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
            ],
            enable_dns_hostnames=True,  # both needed for private DNS on interface endpoints
            enable_dns_support=True,
            restrict_default_security_group=True,
        )

        # Flow logs: a key of their own, usable by CloudWatch Logs only for this one log group
        # (AWS CloudWatch Logs guide "Encrypt log data in CloudWatch Logs using AWS KMS").
        flow_logs = encrypted_log_group(
            self,
            "FlowLog",
            log_group_name=flow_log_group_name,
            retention_days=flow_log_retention_days,
            key_description=f"Encrypts the VPC flow log group {flow_log_group_name}",
            removal_policy=removal_policy,
        )
        self.flow_log_key, self.flow_log_group = flow_logs.key, flow_logs.log_group
        # The flow log's role: trusted by the flow-logs service for this account's flow logs only, with
        # a managed policy on this one log group (CDK's default role would carry an inline policy,
        # which the HIPAA, NIST and PCI packs refuse). Policy updates by FlowLog are turned off.
        self.flow_log_role = iam.Role(
            self,
            "FlowLogRole",
            description="Delivers the VPC flow logs to their log group",
            assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com").with_conditions(
                {
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(service="ec2", resource="vpc-flow-log", resource_name="*")
                    },
                }
            ),
        )
        self.flow_log_policy = iam.ManagedPolicy(
            self,
            "FlowLogPolicy",
            description="Write VPC flow logs to their one log group",
            roles=[self.flow_log_role],
            statements=[
                iam.PolicyStatement(
                    sid="WriteFlowLogs",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    resources=[self.flow_log_group.log_group_arn],
                )
            ],
        )
        self.flow_log = ec2.FlowLog(
            self,
            "FlowLog",
            resource_type=ec2.FlowLogResourceType.from_vpc(self.vpc),
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                self.flow_log_group, self.flow_log_role.without_policy_updates()
            ),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )

        # One security group for every interface endpoint: HTTPS from inside the VPC, nothing out.
        self.endpoint_security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="Interface VPC endpoints: HTTPS from the VPC CIDR only",
            allow_all_outbound=False,
        )
        self.endpoint_security_group.add_ingress_rule(
            ec2.Peer.ipv4(cidr), ec2.Port.tcp(HTTPS), "HTTPS from inside the VPC"
        )

        isolated = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        self.s3_endpoint = self.vpc.add_gateway_endpoint(
            "S3Endpoint", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[isolated]
        )
        buckets = [*s3_bucket_names, cdk_asset_bucket_name(stack.account, stack.region)]
        bucket_arns = [f"arn:{stack.partition}:s3:::{name}" for name in buckets]
        self.s3_endpoint.add_to_policy(
            iam.PolicyStatement(
                sid="LakeAndAssetBucketsOnly",
                principals=[iam.AnyPrincipal()],  # endpoint policies name no principal; the account is a condition
                actions=list(S3_BUCKET_ACTIONS),
                resources=bucket_arns,
                conditions={"StringEquals": {"aws:PrincipalAccount": stack.account}},
            )
        )
        self.s3_endpoint.add_to_policy(
            iam.PolicyStatement(
                sid="LakeAndAssetObjectsOnly",
                principals=[iam.AnyPrincipal()],
                actions=list(S3_OBJECT_ACTIONS),
                resources=[f"{arn}/*" for arn in bucket_arns],
                conditions={"StringEquals": {"aws:PrincipalAccount": stack.account}},
            )
        )

        self.interface_endpoints = {}
        for name, service in INTERFACE_ENDPOINTS.items():
            endpoint = self.vpc.add_interface_endpoint(
                f"{name}Endpoint",
                service=service,
                private_dns_enabled=True,
                open=False,  # `open` would add an ingress rule from the VPC CIDR token; ours is literal
                security_groups=[self.endpoint_security_group],
                subnets=isolated,
            )
            for statement in _interface_endpoint_statements(name, stack):
                endpoint.add_to_policy(statement)
            self.interface_endpoints[name] = endpoint

    @property
    def isolated_subnets(self) -> ec2.SubnetSelection:
        """The subnets the Flink application's ENIs go into."""
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)


def _interface_endpoint_statements(name: str, stack: Stack) -> list[iam.PolicyStatement]:
    """Each interface endpoint admits calls by this account's principals to this account's resources.

    Resources are this account's ARNs where the service has them; CloudWatch PutMetricData and
    sts:GetCallerIdentity take no resource ARN, so those two use "*" (IAM service authorization
    reference), still limited to this account's principals.
    """
    account = {"StringEquals": {"aws:PrincipalAccount": stack.account}}
    region, acct, partition = stack.region, stack.account, stack.partition

    def allow(sid: str, actions: list[str], resources: list[str]) -> iam.PolicyStatement:
        return iam.PolicyStatement(
            sid=sid, principals=[iam.AnyPrincipal()], actions=actions, resources=resources, conditions=account
        )

    if name == "Glue":
        return [allow("ThisAccountsCatalog", ["glue:*"], [f"arn:{partition}:glue:{region}:{acct}:*"])]
    if name == "Kms":
        return [allow("ThisAccountsKeys", ["kms:*"], [f"arn:{partition}:kms:{region}:{acct}:key/*"])]
    if name == "Logs":
        return [allow("ThisAccountsLogGroups", ["logs:*"], [f"arn:{partition}:logs:{region}:{acct}:*"])]
    if name == "Monitoring":
        return [allow("PutMetricDataTakesNoResource", ["cloudwatch:PutMetricData"], ["*"])]
    if name == "Sts":
        return [
            allow("ThisAccountsRoles", ["sts:AssumeRole", "sts:TagSession"], [f"arn:{partition}:iam::{acct}:role/*"]),
            allow("GetCallerIdentityTakesNoResource", ["sts:GetCallerIdentity"], ["*"]),
        ]
    raise ValueError(f"no endpoint policy for {name!r}")
