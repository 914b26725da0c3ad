"""FlinkApplication: a Managed Service for Apache Flink application running a PyFlink zip in a VPC.

Built on the L1 ``CfnApplication`` rather than the experimental L2 (aws_kinesisanalytics_flink_alpha):
the L2 grants ``cloudwatch:PutMetricData`` and the ENI actions on ``*`` and ``logs:DescribeLogGroups``
on every log group, cannot start an application, and trails the service's runtimes. Here every
permission is a scoped statement the caller can read (see ``service_role``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisanalyticsv2 as msf
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from nag_rules import reasons
from nag_rules.acknowledgments import acknowledge_wildcard_resources
from unilake_config.flink_metrics import NAMESPACE as METRICS_NAMESPACE

from .encrypted_log_group import encrypted_log_group

HTTPS = 443
# Runtimes on which an application can be encrypted at rest with a customer-managed key
# (AWS: "Key management in Amazon Managed Service for Apache Flink").
CMK_RUNTIMES = frozenset({"FLINK-1_20", "FLINK-2_2", "FLINK-2_3"})


class FlinkApplication(Construct):
    """The application, its service role, security group and log group. All public attributes."""

    role: iam.Role
    policy: iam.ManagedPolicy
    security_group: ec2.SecurityGroup
    log_key: kms.Key
    log_group: logs.LogGroup
    log_stream: logs.LogStream
    application: msf.CfnApplication
    logging_option: msf.CfnApplicationCloudWatchLoggingOption
    encryption_key: kms.IKey | None

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        application_name: str,
        runtime: str,
        code: s3_assets.Asset,
        property_groups: Sequence[Mapping[str, object]],
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        checkpoint_interval: Duration,
        min_pause_between_checkpoints: Duration,
        snapshots: bool = True,
        parallelism: int = 1,
        parallelism_per_kpu: int = 1,
        autoscaling: bool = True,
        metrics_level: str = "APPLICATION",
        log_level: str = "INFO",
        log_retention_days: int = 90,
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.application_name = application_name
        self.application_arn = stack.format_arn(
            service="kinesisanalytics", resource="application", resource_name=application_name
        )

        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"{application_name}: no ingress; egress only as granted (HTTPS to the VPC endpoints)",
            allow_all_outbound=False,
        )

        logs_of_application = encrypted_log_group(
            self,
            "Log",
            log_group_name=f"/aws/kinesis-analytics/{application_name}",
            retention_days=log_retention_days,
            key_description=f"Encrypts the log group of the Managed Flink application {application_name}",
            removal_policy=removal_policy,
        )
        self.log_key, self.log_group = logs_of_application.key, logs_of_application.log_group
        log_group_arn = logs_of_application.arn
        self.log_stream = logs.LogStream(
            self, "LogStream", log_group=self.log_group, log_stream_name="application", removal_policy=removal_policy
        )
        log_stream_arn = f"{log_group_arn}:log-stream:{self.log_stream.log_stream_name}"

        self.role = iam.Role(
            self,
            "ServiceRole",
            description=f"Service execution role of the Managed Flink application {application_name}",
            assumed_by=iam.ServicePrincipal(
                "kinesisanalytics.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnEquals": {"aws:SourceArn": self.application_arn},
                },
            ),
        )
        # A managed policy rather than an inline one (NIST/HIPAA/PCI "no inline policies").
        self.policy = iam.ManagedPolicy(
            self, "ServicePolicy", description=f"What {application_name} may do", roles=[self.role]
        )
        self._grant_runtime_basics(
            code=code,
            log_group_arn=log_group_arn,
            log_stream_arn=log_stream_arn,
            vpc=vpc,
            subnets=subnets,
        )

        # The key the application's state is encrypted with (None: an AWS owned key).
        self.encryption_key = encryption_key if runtime in CMK_RUNTIMES else None
        encryption = (
            msf.CfnApplication.ApplicationEncryptionConfigurationProperty(
                key_type="CUSTOMER_MANAGED_KEY", key_id=self.encryption_key.key_arn
            )
            if self.encryption_key is not None
            else None
        )
        selected = vpc.select_subnets(
            subnet_type=subnets.subnet_type, subnet_group_name=subnets.subnet_group_name
        ).subnet_ids
        self.application = msf.CfnApplication(
            self,
            "Application",
            application_name=application_name,
            application_description=f"unilake unified streaming + batch job ({application_name})",
            runtime_environment=runtime,
            service_execution_role=self.role.role_arn,
            application_configuration=msf.CfnApplication.ApplicationConfigurationProperty(
                application_code_configuration=msf.CfnApplication.ApplicationCodeConfigurationProperty(
                    code_content_type="ZIPFILE",
                    code_content=msf.CfnApplication.CodeContentProperty(
                        s3_content_location=msf.CfnApplication.S3ContentLocationProperty(
                            bucket_arn=code.bucket.bucket_arn, file_key=code.s3_object_key
                        )
                    ),
                ),
                environment_properties=msf.CfnApplication.EnvironmentPropertiesProperty(
                    property_groups=[
                        msf.CfnApplication.PropertyGroupProperty(
                            property_group_id=str(group["PropertyGroupId"]),
                            property_map=dict(group["PropertyMap"]),  # type: ignore[call-overload]
                        )
                        for group in property_groups
                    ]
                ),
                flink_application_configuration=msf.CfnApplication.FlinkApplicationConfigurationProperty(
                    checkpoint_configuration=msf.CfnApplication.CheckpointConfigurationProperty(
                        configuration_type="CUSTOM",
                        checkpointing_enabled=True,
                        checkpoint_interval=int(checkpoint_interval.to_milliseconds()),
                        min_pause_between_checkpoints=int(min_pause_between_checkpoints.to_milliseconds()),
                    ),
                    monitoring_configuration=msf.CfnApplication.MonitoringConfigurationProperty(
                        configuration_type="CUSTOM", metrics_level=metrics_level, log_level=log_level
                    ),
                    parallelism_configuration=msf.CfnApplication.ParallelismConfigurationProperty(
                        configuration_type="CUSTOM",
                        parallelism=parallelism,
                        parallelism_per_kpu=parallelism_per_kpu,
                        auto_scaling_enabled=autoscaling,
                    ),
                ),
                application_snapshot_configuration=msf.CfnApplication.ApplicationSnapshotConfigurationProperty(
                    snapshots_enabled=snapshots
                ),
                vpc_configurations=[
                    msf.CfnApplication.VpcConfigurationProperty(
                        subnet_ids=selected, security_group_ids=[self.security_group.security_group_id]
                    )
                ],
                application_encryption_configuration=encryption,
            ),
        )
        self.application.node.add_dependency(self.policy)
        self.logging_option = msf.CfnApplicationCloudWatchLoggingOption(
            self,
            "Logging",
            application_name=application_name,
            cloud_watch_logging_option=msf.CfnApplicationCloudWatchLoggingOption.CloudWatchLoggingOptionProperty(
                log_stream_arn=log_stream_arn
            ),
        )
        self.logging_option.node.add_dependency(self.application)

    def _grant_runtime_basics(
        self,
        *,
        code: s3_assets.Asset,
        log_group_arn: str,
        log_stream_arn: str,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
    ) -> None:
        """What every application needs: its code, its logs, its metrics and its ENIs."""
        stack = Stack.of(self)
        self.add_to_policy(
            iam.PolicyStatement(
                sid="ReadApplicationCode",
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[code.bucket.arn_for_objects(code.s3_object_key)],
            )
        )
        self.add_to_policy(
            iam.PolicyStatement(sid="WriteApplicationLogs", actions=["logs:PutLogEvents"], resources=[log_stream_arn])
        )
        # DescribeLogStreams authorizes on the streams of the group, log-group:NAME:log-stream:*
        # (Managed Flink developer guide "Set up application logging"), not on the group's own ARN.
        log_streams = f"{log_group_arn}:log-stream:*"
        self.add_to_policy(
            iam.PolicyStatement(
                sid="DescribeApplicationLogStreams", actions=["logs:DescribeLogStreams"], resources=[log_streams]
            )
        )
        acknowledge_wildcard_resources(self.policy, [log_streams], reason=reasons.FLINK_DESCRIBE_LOG_STREAMS)
        self.add_to_policy(
            iam.PolicyStatement(
                sid="DescribeLogGroups",
                actions=["logs:DescribeLogGroups"],
                # The Service Authorization Reference lists no resource type for logs:DescribeLogGroups: only
                # Resource "*" grants it (imposed by AWS). Managed Flink calls it to validate logging.
                resources=["*"],
            )
        )
        self.add_to_policy(
            iam.PolicyStatement(
                sid="PublishMetricsToTheFlinkNamespaceOnly",
                actions=["cloudwatch:PutMetricData"],
                # PutMetricData supports no resource type: "*" is imposed by AWS; the namespace condition scopes it.
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}},
            )
        )
        self.add_to_policy(
            iam.PolicyStatement(
                sid="DescribeVpcForEnis",
                actions=[
                    "ec2:DescribeVpcs",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeDhcpOptions",
                    "ec2:DescribeNetworkInterfaces",
                ],
                # EC2 Describe* actions support no resource-level permissions: "*" is imposed by AWS.
                resources=["*"],
            )
        )
        acknowledge_wildcard_resources(self.policy, ["*"], reason=reasons.FLINK_NO_RESOURCE_TYPE)
        subnet_arns = [
            stack.format_arn(service="ec2", resource="subnet", resource_name=subnet_id)
            for subnet_id in vpc.select_subnets(
                subnet_type=subnets.subnet_type, subnet_group_name=subnets.subnet_group_name
            ).subnet_ids
        ]
        eni_arn = stack.format_arn(service="ec2", resource="network-interface", resource_name="*")
        vpc_arn = stack.format_arn(service="ec2", resource="vpc", resource_name=vpc.vpc_id)
        self.add_to_policy(
            iam.PolicyStatement(
                sid="CreateEnisInTheIsolatedSubnets",
                actions=["ec2:CreateNetworkInterface"],
                # The ENI does not exist before it is created: its ARN can only be network-interface/*.
                resources=[
                    eni_arn,
                    *subnet_arns,
                    stack.format_arn(
                        service="ec2", resource="security-group", resource_name=self.security_group.security_group_id
                    ),
                ],
            )
        )
        self.add_to_policy(
            iam.PolicyStatement(
                sid="ManageEnisInThisVpcOnly",
                actions=["ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface"],
                # ENI ids are chosen by the service at run time; the ec2:Vpc condition keeps them in our VPC.
                resources=[eni_arn],
                conditions={"ArnEquals": {"ec2:Vpc": vpc_arn}},
            )
        )
        acknowledge_wildcard_resources(self.policy, [eni_arn], reason=reasons.FLINK_ENIS)

    def add_to_policy(self, statement: iam.PolicyStatement) -> None:
        """Grant the application's service role one more scoped statement."""
        self.policy.add_statements(statement)

    def allow_https_to(self, peer: ec2.ISecurityGroup) -> None:
        self.security_group.add_egress_rule(peer, ec2.Port.tcp(HTTPS), "HTTPS to the VPC interface endpoints")
