"""The streaming stack: the Managed Flink application running flink_app/, in the VPC, least privilege.

The stack composes the application construct and wires what the job reads and writes, table by table:
Glue reads on the source and sink tables, ``glue:UpdateTable`` on the sinks only, S3 reads on the source
tables' locations and writes on the sinks', and the lake key only through S3.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from aws_cdk import CfnParameter, CfnRule, CfnRuleAssertion, Duration, Fn, IgnoreMode, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from cdk_constructs.application_starter import ApplicationStarter
from cdk_constructs.encrypted_log_group import retention
from cdk_constructs.flink_application import FlinkApplication
from cdk_constructs.glue_database import catalog_arn, database_arn, table_arn
from cdk_constructs.log_group_key import log_group_key
from cdk_constructs.network import Network
from flink_app.unilake_job import properties as job
from nag_rules import reasons
from nag_rules.acknowledgments import acknowledge_wildcard_resources
from unilake_config import EnvironmentConfig, TableSpec

from .lake_stack import removal_policy

FLINK_APP_DIR = Path(__file__).resolve().parent.parent / "flink_app"
DEPENDENCY_JAR = FLINK_APP_DIR / "lib" / job.DEPENDENCY_JAR_NAME
# The zip Managed Flink runs holds only main.py, the job package and lib/<deps>.jar (gitignore syntax:
# exclude everything, re-include those, then drop bytecode caches). Tests, demo, pom.xml never go in.
CODE_EXCLUDES = [
    "*",
    "!/main.py",
    "!/unilake_job/",
    "!/unilake_job/**",
    "!/lib/",
    "!/lib/*.jar",
    "__pycache__/",
    "*.pyc",
]


def job_settings(config: EnvironmentConfig, tables: tuple[TableSpec, ...]) -> dict[str, object]:
    """The job's own settings for Managed Flink, from the environment and the table registry."""
    source = next(table for table in tables if table.role == "source")
    assert source.streaming is not None
    flink = config.flink
    return {
        job.KEY_PROFILE: "msf",
        job.KEY_MODE: "streaming",
        job.KEY_CATALOG_NAME: "glue",
        job.KEY_WAREHOUSE: config.warehouse_uri,
        job.KEY_DATABASE: config.catalog.database_name,
        job.KEY_SOURCE_TABLE: source.name,
        job.KEY_SOURCE_MONITOR_INTERVAL: f"{source.streaming.monitor_interval}s",
        job.KEY_SINK_SALES_TABLE: job.DEFAULT_SALES_TABLE,
        job.KEY_SINK_FRAUD_TABLE: job.DEFAULT_FRAUD_TABLE,
        job.KEY_SINK_QUARANTINE_TABLE: job.DEFAULT_QUARANTINE_TABLE,
        job.KEY_WINDOW_SIZE: f"{flink.window_size}s",
        job.KEY_OUT_OF_ORDERNESS: f"{flink.out_of_orderness}s",
        job.KEY_VELOCITY_MIN_TRANSACTIONS: flink.fraud.velocity_min_transactions,
        job.KEY_MULTI_STORE_MIN_STORES: flink.fraud.multi_store_min_stores,
        job.KEY_HIGH_VALUE_MIN_AMOUNT: flink.fraud.high_value_amount,
    }


class StreamingStack(Stack):
    code: s3_assets.Asset
    flink: FlinkApplication
    jar_guard: CfnParameter
    starter_log_key: kms.Key
    starter: ApplicationStarter

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        tables: tuple[TableSpec, ...],
        network: Network,
        lake_key: kms.IKey,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"unilake {config.name}: the Managed Flink application running the unified job",
        )
        flink = config.flink
        self.code = s3_assets.Asset(
            self, "JobCode", path=str(FLINK_APP_DIR), exclude=CODE_EXCLUDES, ignore_mode=IgnoreMode.GIT
        )
        self.jar_guard = self._refuse_deploy_without_jar()

        settings = job_settings(config, tables)
        property_groups = [job.run_options_group(), *job.to_property_groups(settings)]
        self.flink = FlinkApplication(
            self,
            "Job",
            application_name=flink.application_name,
            runtime=flink.runtime,
            code=self.code,
            property_groups=property_groups,
            vpc=network.vpc,
            subnets=network.isolated_subnets,
            checkpoint_interval=Duration.seconds(flink.checkpoint_interval),
            min_pause_between_checkpoints=Duration.seconds(flink.min_pause_between_checkpoints),
            snapshots=flink.snapshots,
            parallelism=flink.parallelism,
            parallelism_per_kpu=flink.parallelism_per_kpu,
            autoscaling=flink.autoscaling,
            metrics_level=flink.metrics_level,
            log_level=flink.log_level,
            log_retention_days=flink.log_retention_days,
            encryption_key=lake_key,
            removal_policy=removal_policy(config),
        )
        self.flink.allow_https_to(network.endpoint_security_group)
        self.flink.security_group.add_egress_rule(
            ec2.Peer.prefix_list(config.network.s3_prefix_list_id),
            ec2.Port.tcp(443),
            "HTTPS to S3 through the gateway endpoint",
        )
        self._grant_tables(config, settings, lake_key)
        self._start_on_every_deploy(config, property_groups)

    def _start_on_every_deploy(self, config: EnvironmentConfig, property_groups: list[dict[str, Any]]) -> None:
        """CloudFormation leaves a created or updated application READY: start it, restoring the latest snapshot."""
        self.starter_log_key = log_group_key(
            self,
            "StarterLogKey",
            description=f"Encrypts the log groups of {config.flink.application_name}'s start/restore handlers",
            log_group_arn=f"arn:{self.partition}:logs:{self.region}:{self.account}:log-group:{self.stack_name}-*",
            removal_policy=removal_policy(config),
        )
        # Changes whenever the code or the application's configuration changes, so the starter runs after
        # every update of the application (the application itself exposes no version attribute).
        update_token = hashlib.sha256(
            json.dumps(
                {
                    "code": self.code.asset_hash,
                    "properties": property_groups,
                    "flink": config.flink.model_dump(mode="json"),
                },
                sort_keys=True,
            ).encode()
        ).hexdigest()
        self.starter = ApplicationStarter(
            self,
            "JobStarter",
            application_name=self.flink.application.ref,
            application_arn=self.flink.application_arn,
            allow_non_restored_state=config.flink.allow_non_restored_state,
            update_token=update_token,
            log_retention=retention(config.flink.log_retention_days),
            log_encryption_key=self.starter_log_key,
        )
        self.starter.resource.node.add_dependency(self.flink.logging_option)

    def _refuse_deploy_without_jar(self) -> CfnParameter:
        """CloudFormation refuses the stack, before changing anything, when the zip lacks the jar.

        A template rule asserts the parameter synth sets from the presence of the jar: synth, tests and
        cfn-lint work without it; a create or update of the stack fails with the assertion's message.
        """
        present = DEPENDENCY_JAR.is_file()
        parameter = CfnParameter(
            self,
            "DependencyJarBundled",
            type="String",
            default="yes" if present else "no",
            allowed_values=["yes", "no"],
            description=f"Whether the job zip carries lib/{job.DEPENDENCY_JAR_NAME} (set by synth)",
        )
        CfnRule(
            self,
            "RefuseArtifactWithoutDependencyJar",
            assertions=[
                CfnRuleAssertion(
                    assert_=Fn.condition_equals(parameter.value_as_string, "yes"),
                    assert_description=(
                        f"The Flink job zip has no lib/{job.DEPENDENCY_JAR_NAME} (Iceberg runtime, AWS bundle), "
                        "so Managed Flink could not run it. Build the jar with `make jar` "
                        "(see flink_app/README.md), synthesize again, then deploy."
                    ),
                )
            ],
        )
        return parameter

    def _grant_tables(self, config: EnvironmentConfig, settings: dict[str, object], key: kms.IKey) -> None:
        """Exactly the tables the job's settings name: its source, and its three sinks. Other tables of the
        registry (there may be thousands) stay out of this role, and the policy does not grow with them."""
        database = config.catalog.database_name
        sources = [str(settings[job.KEY_SOURCE_TABLE])]
        sinks = [
            str(settings[setting])
            for setting in (job.KEY_SINK_SALES_TABLE, job.KEY_SINK_FRAUD_TABLE, job.KEY_SINK_QUARANTINE_TABLE)
        ]
        catalog, db = catalog_arn(self), database_arn(self, database)
        self.flink.add_to_policy(
            iam.PolicyStatement(
                sid="ReadCatalog",
                actions=["glue:GetDatabase", "glue:GetTable"],
                resources=[catalog, db, *(table_arn(self, database, name) for name in sources + sinks)],
            )
        )
        self.flink.add_to_policy(
            iam.PolicyStatement(
                sid="CommitToSinkTables",
                actions=["glue:UpdateTable"],
                resources=[catalog, db, *(table_arn(self, database, name) for name in sinks)],
            )
        )
        # The lake bucket's name is fixed (config.lake_bucket_name): literal ARNs, no cross-stack reference.
        bucket_arn = f"arn:{self.partition}:s3:::{config.lake_bucket_name}"
        self.flink.add_to_policy(
            iam.PolicyStatement(
                sid="ReadSourceTableFiles",
                actions=["s3:GetObject"],
                resources=[f"{bucket_arn}/{config.table_prefix(name)}/*" for name in sources],
            )
        )
        self.flink.add_to_policy(
            iam.PolicyStatement(
                sid="WriteSinkTableFiles",
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                resources=[f"{bucket_arn}/{config.table_prefix(name)}/*" for name in sinks],
            )
        )
        self.flink.add_to_policy(
            iam.PolicyStatement(
                sid="ListTableLocations",
                actions=["s3:ListBucket"],
                resources=[bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{config.table_prefix(n)}/*" for n in sources + sinks]}},
            )
        )
        acknowledge_wildcard_resources(
            self.flink.policy,
            [f"{bucket_arn}/{config.table_prefix(name)}/*" for name in sources + sinks],
            reason=reasons.TABLE_FILES,
        )
        self.flink.add_to_policy(
            iam.PolicyStatement(
                sid="UseTheLakeKeyThroughS3Only",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{self.region}.amazonaws.com"}},
            )
        )
