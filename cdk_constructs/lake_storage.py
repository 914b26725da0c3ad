"""LakeStorage: the customer-managed key, the lake bucket and its server-access-log bucket.

Secure defaults live here so no caller can forget them: SSE-KMS with the lake key and S3
Bucket Keys, versioning, Block Public Access, ACLs disabled, TLS 1.2+ only, and a policy that
refuses object writes asking for another encryption or another key.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from nag_rules import reasons
from nag_rules.acknowledgments import acknowledge

MIN_TLS_VERSION = 1.2


class LakeStorage(Construct):
    """The lake's storage. Every created resource is a public attribute."""

    key: kms.Key
    bucket: s3.Bucket
    access_log_bucket: s3.Bucket

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str,
        access_log_bucket_name: str,
        archive_access_after: Duration,
        deep_archive_access_after: Duration,
        noncurrent_version_expiration: Duration,
        abort_incomplete_multipart_upload_after: Duration,
        access_log_expiration: Duration,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        account = Stack.of(self).account

        self.key = kms.Key(
            self,
            "Key",
            description=f"Encrypts the unilake lake bucket {bucket_name} and its access logs",
            enable_key_rotation=True,
            removal_policy=removal_policy,
            pending_window=Duration.days(30),
        )
        # S3 server access logging writes to a KMS-encrypted target bucket only when the key lets the
        # logging service use it (aws/aws-cdk PR 25350; AWS S3 guide "Enabling Amazon S3 server access
        # logging"). Scoped to this account's log deliveries.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowS3ServerAccessLogDeliveryFromThisAccount",
                principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
                actions=["kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy "*" means "this key"
                conditions={"StringEquals": {"aws:SourceAccount": account}},
            )
        )

        self.access_log_bucket = self._bucket(
            "AccessLogs",
            bucket_name=access_log_bucket_name,
            removal_policy=removal_policy,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=access_log_expiration,
                    noncurrent_version_expiration=Duration.days(1),
                    abort_incomplete_multipart_upload_after=abort_incomplete_multipart_upload_after,
                )
            ],
        )

        self.bucket = self._bucket(
            "Bucket",
            bucket_name=bucket_name,
            removal_policy=removal_policy,
            server_access_logs_bucket=self.access_log_bucket,
            server_access_logs_prefix=f"s3/{bucket_name}/",
            intelligent_tiering_configurations=[
                s3.IntelligentTieringConfiguration(
                    name="archive-tiers",
                    archive_access_tier_time=archive_access_after,
                    deep_archive_access_tier_time=deep_archive_access_after,
                )
            ],
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="intelligent-tiering-from-day-0",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INTELLIGENT_TIERING,
                            transition_after=Duration.days(0),
                        )
                    ],
                ),
                s3.LifecycleRule(
                    id="expire-noncurrent-versions",
                    noncurrent_version_expiration=noncurrent_version_expiration,
                    abort_incomplete_multipart_upload_after=abort_incomplete_multipart_upload_after,
                ),
            ],
        )

    def allow_managed_flink_encryption(self, *application_arns: str) -> None:
        """Let Managed Flink encrypt these applications' state at rest with the lake key. Both service
        principals must be in the key policy (AWS: "Managing CMK using APIs", Managed Service for Apache
        Flink developer guide); scoped to this account and these applications (one statement: Sids are
        unique in a policy)."""
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowManagedFlinkApplicationEncryption",
                principals=[
                    iam.ServicePrincipal("kinesisanalytics.amazonaws.com"),
                    iam.ServicePrincipal("infrastructure.kinesisanalytics.amazonaws.com"),
                ],
                actions=["kms:DescribeKey", "kms:Decrypt", "kms:GenerateDataKey*", "kms:CreateGrant"],
                resources=["*"],  # in a key policy "*" means "this key"
                conditions={
                    "StringEquals": {"aws:SourceAccount": Stack.of(self).account},
                    "ArnEquals": {
                        "aws:SourceArn": application_arns[0] if len(application_arns) == 1 else list(application_arns)
                    },
                },
            )
        )

    def _bucket(self, construct_id: str, *, bucket_name: str, **props: object) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            construct_id,
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=MIN_TLS_VERSION,
            **props,  # type: ignore[arg-type]
        )
        acknowledge(
            bucket,
            *(f"{pack}-S3BucketReplicationEnabled" for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")),
            reason=reasons.REPLICATION,
        )
        objects = bucket.arn_for_objects("*")
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DenyObjectWritesWithAnotherEncryption",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:PutObject"],
                resources=[objects],
                conditions={"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}},
            )
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DenyObjectWritesWithAnotherKey",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:PutObject"],
                resources=[objects],
                conditions={
                    "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": self.key.key_arn}
                },
            )
        )
        return bucket
