"""LakeStorage: the customer-managed key, the lake bucket and its server-access-log bucket.

Secure defaults live here so no caller can forget them: SSE-KMS with the lake key and S3
Bucket Keys, versioning, Block Public Access, ACLs disabled, TLS 1.2+ only, and a policy that
refuses object writes asking for another encryption or another key.

Writes that ask for no encryption at all are allowed and encrypted by the bucket's default (the lake
key): Iceberg's S3FileIO (``s3.sse.type`` defaults to ``none``), Glue's table optimizers, Glue writing a
new table's first metadata file and S3 server access log delivery send no SSE header. The deny
statements therefore only fire when a header is present (``Null: false``): a ``...IfExists`` or negated
operator alone is true when the key is absent and would refuse every one of those writes (IAM user guide,
"Condition operators"). tests/access_matrix checks both sides with an IAM simulator.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnResource, Duration, RemovalPolicy, Stack
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
        noncurrent_version_expiration: Duration,
        abort_incomplete_multipart_upload_after: Duration,
        access_log_expiration: Duration,
        archive_access_after: Duration | None = None,
        deep_archive_access_after: Duration | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        auto_delete_objects: bool = False,
    ) -> None:
        """``archive_access_after``/``deep_archive_access_after``: S3 Intelligent-Tiering's asynchronous archive
        tiers, off unless given (an archived Iceberg file cannot be read until it is restored).
        ``auto_delete_objects``: empty the buckets when the stack deletes them (only with ``DESTROY``)."""
        super().__init__(scope, construct_id)
        if auto_delete_objects and removal_policy != RemovalPolicy.DESTROY:
            raise ValueError("auto_delete_objects empties buckets on delete: only with RemovalPolicy.DESTROY")
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
            auto_delete_objects=auto_delete_objects,
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
            auto_delete_objects=auto_delete_objects,
            server_access_logs_bucket=self.access_log_bucket,
            server_access_logs_prefix=f"s3/{bucket_name}/",
            intelligent_tiering_configurations=[
                s3.IntelligentTieringConfiguration(
                    name="archive-tiers",
                    archive_access_tier_time=archive_access_after,
                    deep_archive_access_tier_time=deep_archive_access_after,
                )
            ]
            if archive_access_after is not None or deep_archive_access_after is not None
            else None,
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

        if auto_delete_objects:
            self._drop_redundant_depends_on()

    def _drop_redundant_depends_on(self) -> None:
        """CDK's provider for ``auto_delete_objects`` gives its handler a DependsOn on its role that the
        handler's ``Fn::GetAtt`` on that role already implies (cfn-lint W3005)."""
        provider = Stack.of(self).node.try_find_child("Custom::S3AutoDeleteObjectsCustomResourceProvider")
        if provider is None:
            return
        handler, role = provider.node.try_find_child("Handler"), provider.node.try_find_child("Role")
        if isinstance(handler, CfnResource) and isinstance(role, CfnResource):
            handler.remove_resource_dependency(role)

    def allow_managed_flink_encryption(self, *application_arns: str) -> None:
        """Let Managed Flink encrypt these applications' state at rest with the lake key: the key policy
        statements AWS documents for the two service principals, with their conditions as documented
        (Managed Flink developer guide, "Managing CMK using APIs", manage-cmk-api.html): DescribeKey and the
        durable state's GenerateDataKey are tied to the application by ``aws:SourceArn``/``aws:SourceAccount``;
        the durable state's Decrypt and the running state's Decrypt, GenerateDataKeyWithoutPlaintext and
        CreateGrant (Decrypt grants only) by the encryption context ``aws:kinesisanalytics:arn``. Several
        applications share the statements (Sids are unique in a policy): each condition on the application's
        ARN lists them all, and a condition key with several values matches any of them (IAM: "Multiple
        values in a condition key")."""
        if not application_arns:
            raise ValueError("allow_managed_flink_encryption: name at least one application ARN")
        account = Stack.of(self).account
        service = iam.ServicePrincipal("kinesisanalytics.amazonaws.com")
        infrastructure = iam.ServicePrincipal("infrastructure.kinesisanalytics.amazonaws.com")
        arns: str | list[str] = application_arns[0] if len(application_arns) == 1 else list(application_arns)
        source: dict[str, object] = {"aws:SourceArn": arns, "aws:SourceAccount": account}
        context: dict[str, object] = {"kms:EncryptionContext:aws:kinesisanalytics:arn": arns}
        statements: dict[str, tuple[list[iam.IPrincipal], list[str], dict[str, Any]]] = {
            "AllowMSFServiceToDescribeKey": ([service, infrastructure], ["kms:DescribeKey"], {"StringEquals": source}),
            "AllowMSFServiceToGenerateDataKeyForDurableState": (
                [service],
                ["kms:GenerateDataKey"],
                {"StringEquals": {**source, **context}},
            ),
            "AllowMSFServiceToDecryptForDurableState": ([service], ["kms:Decrypt"], {"StringEquals": context}),
            "AllowMSFServiceToUseKeyForRunningState": (
                [infrastructure],
                ["kms:Decrypt", "kms:GenerateDataKeyWithoutPlaintext"],
                {"StringEquals": context},
            ),
            "AllowMSFServiceToCreateGrantForRunningState": (
                [infrastructure],
                ["kms:CreateGrant"],
                {
                    "StringEquals": {**context, "kms:GrantConstraintType": "EncryptionContextSubset"},
                    "ForAllValues:StringEquals": {"kms:GrantOperations": "Decrypt"},
                },
            ),
        }
        for sid, (principals, actions, conditions) in statements.items():
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=sid,
                    principals=list(principals),
                    actions=actions,
                    resources=["*"],  # in a key policy "*" means "this key"
                    conditions=conditions,
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
        sse, sse_key = "s3:x-amz-server-side-encryption", "s3:x-amz-server-side-encryption-aws-kms-key-id"
        # Each deny needs its header present (Null: false); see the module docstring.
        denies = {
            "DenyObjectWritesWithAnotherEncryption": {"StringNotEquals": {sse: "aws:kms"}, "Null": {sse: "false"}},
            "DenyObjectWritesWithAnotherKey": {
                "StringNotEquals": {sse_key: self.key.key_arn},
                "Null": {sse_key: "false"},
            },
            # aws:kms without a key id means the AWS managed key aws/s3 (S3 API reference, PutObject).
            "DenyObjectWritesWithTheAwsManagedKey": {"StringEquals": {sse: "aws:kms"}, "Null": {sse_key: "true"}},
        }
        for sid, conditions in denies.items():
            bucket.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=sid,
                    effect=iam.Effect.DENY,
                    principals=[iam.AnyPrincipal()],
                    actions=["s3:PutObject"],
                    resources=[objects],
                    conditions=conditions,
                )
            )
        return bucket
