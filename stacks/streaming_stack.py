"""The streaming stack: the Managed Flink application running flink_app/, in the VPC, least privilege.

The stack composes the job's code asset, the application construct and its start-on-deploy custom resource,
and grants the application exactly the tables its settings name (``grant_table_access``): Glue reads on the
source and sink tables, ``glue:UpdateTable`` on the sinks only, S3 reads on the source table's location and
writes on the sinks', and the lake key only through S3. Other tables of the registry (there may be
thousands) stay out of its role, and the policy does not grow with them.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aws_cdk import CfnParameter, CfnRule, CfnRuleAssertion, Duration, Fn, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from constructs import Construct

from cdk_constructs.application_starter import ApplicationStarter
from cdk_constructs.encrypted_log_group import retention
from cdk_constructs.flink_application import FlinkApplication
from cdk_constructs.job_code import DEPENDENCY_JAR, FLINK_APP_DIR, JobCode
from cdk_constructs.lake_table_access import grant_table_access
from cdk_constructs.log_group_key import log_group_key
from cdk_constructs.network import Network
from flink_app.unilake_job import properties as job
from unilake_config import EnvironmentConfig, TableSpec

from .job_settings import DeployedJobSettings

__all__ = ["DEPENDENCY_JAR", "FLINK_APP_DIR", "StreamingStack"]


JAR_GUARD_PARAMETER = "DependencyJarMissing"


def refuse_deploy_without_jar(stack: Stack, *, jar_present: bool) -> CfnParameter | None:
    """CloudFormation refuses the stack, before changing anything, when the job zip lacks the jar.

    Without the jar the template carries a parameter whose default says so and a rule asserting it does not;
    with the jar it carries neither. The parameter exists only in templates that cannot deploy, so no deployed
    stack ever has a value of it: the CDK CLI's UsePreviousValue (which it applies to every parameter of the
    deployed stack it is not given) cannot carry an old "the jar is there" into a deploy of a zip without it,
    and the rule holds on every deploy, not only the first. Synth, tests and cfn-lint work either way.
    """
    if jar_present:
        return None
    parameter = CfnParameter(
        stack,
        JAR_GUARD_PARAMETER,
        type="String",
        default="true",
        allowed_values=["true"],
        description=f"Set by synth: the Flink job zip lacks lib/{job.DEPENDENCY_JAR_NAME}",
    )
    CfnRule(
        stack,
        "RefuseArtifactWithoutDependencyJar",
        assertions=[
            CfnRuleAssertion(
                assert_=Fn.condition_not(Fn.condition_equals(parameter.value_as_string, "true")),
                assert_description=(
                    f"The Flink job zip has no lib/{job.DEPENDENCY_JAR_NAME} (Iceberg runtime, AWS bundle), "
                    "so Managed Flink could not run it. Build the jar with `make jar` "
                    "(see flink_app/README.md), synthesize again, then deploy."
                ),
            )
        ],
    )
    return parameter


class StreamingStack(Stack):
    code: JobCode
    settings: DeployedJobSettings
    flink: FlinkApplication
    jar_guard: CfnParameter | None
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
        self.code = JobCode(self, "JobCode")
        self.jar_guard = refuse_deploy_without_jar(self, jar_present=DEPENDENCY_JAR.is_file())

        self.settings = DeployedJobSettings.from_config(config, tables)
        property_groups = self.settings.property_groups()
        self.flink = FlinkApplication(
            self,
            "Job",
            application_name=flink.application_name,
            runtime=flink.runtime,
            code=self.code.asset,
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
            removal_policy=config.cdk_removal_policy,
        )
        self.flink.allow_https_to(network.endpoint_security_group)
        self.flink.security_group.add_egress_rule(
            ec2.Peer.prefix_list(config.network.s3_prefix_list_id),
            ec2.Port.tcp(443),
            "HTTPS to S3 through the gateway endpoint",
        )
        source, sinks = self.settings.source_table, self.settings.sink_tables
        grant_table_access(
            self.flink.policy,
            bucket_name=config.lake_bucket_name,
            database_name=config.catalog.database_name,
            key=lake_key,
            read={source: config.table_prefix(source)},
            write={name: config.table_prefix(name) for name in sinks},
        )
        self._start_on_every_deploy(config, property_groups)

    def _start_on_every_deploy(self, config: EnvironmentConfig, property_groups: list[dict[str, Any]]) -> None:
        """CloudFormation leaves a created or updated application READY: start it, restoring the latest snapshot."""
        self.starter_log_key = log_group_key(
            self,
            "StarterLogKey",
            description=f"Encrypts the log groups of {config.flink.application_name}'s start/restore handlers",
            log_group_arn=f"arn:{self.partition}:logs:{self.region}:{self.account}:log-group:{self.stack_name}-*",
            removal_policy=config.cdk_removal_policy,
        )
        # Changes whenever the code or the application's configuration changes, so the starter runs after
        # every update of the application (the application itself exposes no version attribute).
        update_token = hashlib.sha256(
            json.dumps(
                {
                    "code": self.code.asset.asset_hash,
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
            application_key=self.flink.encryption_key,
            log_removal_policy=config.cdk_removal_policy,
        )
        self.starter.resource.node.add_dependency(self.flink.logging_option)
