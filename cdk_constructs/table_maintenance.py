"""Glue table maintenance: the one least-privilege role the optimizers run as, and the three
``AWS::Glue::TableOptimizer`` resources (compaction, snapshot retention, orphan-file deletion)
of one table.

The role's permissions follow AWS Glue's "Table optimization prerequisites" page: S3 GetObject,
PutObject, DeleteObject on the data and ListBucket on the bucket; glue:GetTable and
glue:UpdateTable on the table, its database and the catalog; logs:CreateLogGroup,
CreateLogStream and PutLogEvents on the ``/aws-glue/iceberg-compaction``,
``/aws-glue/iceberg-retention`` and ``/aws-glue/iceberg-orphan-file-deletion`` log groups. Here
they are narrowed to this database's warehouse prefix and tables, and the lake key is usable only
through S3 (``kms:ViaService``).
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from nag_rules import reasons
from nag_rules.acknowledgments import acknowledge_wildcard_resources
from unilake_config.tables import Maintenance

from .glue_database import catalog_arn, database_arn, table_arn

OPTIMIZER_TYPES = ("compaction", "retention", "orphan_file_deletion")

# The log groups Glue's Iceberg optimizers write to (Glue "Table optimization prerequisites").
OPTIMIZER_LOG_GROUPS = (
    "/aws-glue/iceberg-compaction/logs",
    "/aws-glue/iceberg-retention/logs",
    "/aws-glue/iceberg-orphan-file-deletion/logs",
)


class TableOptimizerRole(Construct):
    """The role every table optimizer of one database runs as. ``role`` and ``policy`` are public."""

    role: iam.Role
    policy: iam.ManagedPolicy

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        role_name: str,
        database_name: str,
        bucket_name: str,
        warehouse_prefix: str,
        key: kms.IKey,
    ) -> None:
        """``bucket_name`` is the lake bucket's fixed name (a literal keeps the statements readable);
        ``warehouse_prefix`` the database's key prefix in it, e.g. ``warehouse/db.db``; ``key`` the lake
        bucket's key."""
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        prefix = warehouse_prefix.strip("/")
        bucket_arn = f"arn:{stack.partition}:s3:::{bucket_name}"
        self.role = iam.Role(
            self,
            "Role",
            role_name=role_name,
            description=f"Glue table optimizers (compaction, retention, orphan files) of database {database_name}",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com").with_conditions(
                {"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
        )
        log_group_arns = [
            # ":*" is the log streams of that one log group; CloudWatch Logs has no narrower ARN for
            # CreateLogStream/PutLogEvents (Glue "Table optimization prerequisites").
            stack.format_arn(
                service="logs",
                resource="log-group",
                resource_name=f"{name}:*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for name in OPTIMIZER_LOG_GROUPS
        ]
        warehouse_objects = f"{bucket_arn}/{prefix}/*"
        every_table = table_arn(stack, database_name, "*")
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            description=f"Least privilege for the Glue table optimizers of database {database_name}",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    sid="WarehouseObjects",
                    actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                    # Every object under this database's prefix: tables come and go with the registry.
                    resources=[warehouse_objects],
                ),
                iam.PolicyStatement(
                    sid="ListWarehousePrefix",
                    actions=["s3:ListBucket"],
                    resources=[bucket_arn],
                    conditions={"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}},
                ),
                iam.PolicyStatement(
                    sid="LakeKeyThroughS3Only",
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=[key.key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
                ),
                iam.PolicyStatement(
                    sid="ReadAndCommitThisDatabasesTables",
                    actions=["glue:GetTable", "glue:UpdateTable", "glue:GetDatabase"],
                    resources=[
                        catalog_arn(stack),
                        database_arn(stack, database_name),
                        # Every table of this one database: a policy naming 1,000 tables would pass
                        # IAM's 6,144-character managed-policy limit.
                        every_table,
                    ],
                ),
                iam.PolicyStatement(
                    sid="OptimizerLogs",
                    actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=log_group_arns,
                ),
            ],
        )
        acknowledge_wildcard_resources(self.policy, [warehouse_objects], reason=reasons.OPTIMIZER_WAREHOUSE_OBJECTS)
        acknowledge_wildcard_resources(self.policy, [every_table], reason=reasons.OPTIMIZER_TABLES)
        acknowledge_wildcard_resources(self.policy, log_group_arns, reason=reasons.OPTIMIZER_LOGS)

    @staticmethod
    def arn_for(stack: Stack, role_name: str) -> str:
        """The role's ARN from its fixed name, for stacks that must not import it."""
        return stack.format_arn(service="iam", region="", resource="role", resource_name=role_name)


class TableMaintenance(Construct):
    """The three Glue optimizers of one table, each enabled or not as ``maintenance`` says."""

    optimizers: dict[str, glue.CfnTableOptimizer]

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        database_name: str,
        table_name: str,
        maintenance: Maintenance,
        role_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        account = Stack.of(self).account
        retention = maintenance.snapshot_retention
        orphans = maintenance.orphan_file_deletion
        configurations = {
            "compaction": glue.CfnTableOptimizer.TableOptimizerConfigurationProperty(
                role_arn=role_arn, enabled=maintenance.compaction.enabled
            ),
            "retention": glue.CfnTableOptimizer.TableOptimizerConfigurationProperty(
                role_arn=role_arn,
                enabled=retention.enabled,
                retention_configuration=glue.CfnTableOptimizer.RetentionConfigurationProperty(
                    iceberg_configuration=glue.CfnTableOptimizer.IcebergRetentionConfigurationProperty(
                        snapshot_retention_period_in_days=retention.retention_days,
                        number_of_snapshots_to_retain=retention.snapshots_to_retain,
                        clean_expired_files=retention.clean_expired_files,
                    )
                ),
            ),
            "orphan_file_deletion": glue.CfnTableOptimizer.TableOptimizerConfigurationProperty(
                role_arn=role_arn,
                enabled=orphans.enabled,
                orphan_file_deletion_configuration=glue.CfnTableOptimizer.OrphanFileDeletionConfigurationProperty(
                    iceberg_configuration=glue.CfnTableOptimizer.IcebergConfigurationProperty(
                        orphan_file_retention_period_in_days=orphans.retention_days
                    )
                ),
            ),
        }
        self.optimizers = {
            kind: glue.CfnTableOptimizer(
                self,
                _construct_id(kind),
                catalog_id=account,
                database_name=database_name,
                table_name=table_name,
                type=kind,
                table_optimizer_configuration=configuration,
            )
            for kind, configuration in configurations.items()
        }


def _construct_id(kind: str) -> str:
    return "".join(part.capitalize() for part in kind.split("_"))
