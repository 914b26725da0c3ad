"""The backfill stack: per environment, the Managed Flink application that runs day backfills.

The same code asset as the streaming application (passed in: the streaming stack uploads it and refuses a
zip without the dependency jar, and this stack deploys after it) and the same typed settings, in batch mode,
with its own role (``grant_table_access``): it reads the source table and every table the job checks exists,
and writes only the sinks a backfill overwrites (``BACKFILL_SINK_KEYS``: sales per minute and fraud alerts,
never the quarantine). A deploy creates or updates it and leaves it READY: only ``python -m ops backfill``
starts it (cdk_constructs/backfill_application.py says why).
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from constructs import Construct

from cdk_constructs.backfill_application import BackfillApplication
from cdk_constructs.job_code import JobCode
from cdk_constructs.lake_table_access import grant_table_access
from cdk_constructs.network import Network
from flink_app.unilake_job import properties as job
from unilake_config import EnvironmentConfig

from .job_settings import DeployedJobSettings


class BackfillStack(Stack):
    backfill: BackfillApplication

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        network: Network,
        lake_key: kms.IKey,
        code: JobCode,
        settings: DeployedJobSettings,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"unilake {config.name}: the Managed Flink application for backfills (started by ops)",
        )
        flink = config.flink
        properties = settings.job_properties()
        self.backfill = BackfillApplication(
            self,
            "Backfill",
            application_name=flink.backfill_application_name,
            runtime=flink.runtime,
            code=code.asset,
            job_settings=properties,
            vpc=network.vpc,
            subnets=network.isolated_subnets,
            parallelism=flink.parallelism,
            parallelism_per_kpu=flink.parallelism_per_kpu,
            log_retention_days=flink.log_retention_days,
            encryption_key=lake_key,
            removal_policy=config.cdk_removal_policy,
        )
        application = self.backfill.flink
        application.allow_https_to(network.endpoint_security_group)
        application.security_group.add_egress_rule(
            ec2.Peer.prefix_list(config.network.s3_prefix_list_id),
            ec2.Port.tcp(443),
            "HTTPS to S3 through the gateway endpoint",
        )
        # An overwrite makes the calls an append makes (new data and metadata files, glue:UpdateTable) on the
        # sinks it writes; it reads the source and the other tables the job checks exist at start.
        written = [str(properties[key]) for key in job.BACKFILL_SINK_KEYS]
        read = [settings.source_table, *(name for name in settings.sink_tables if name not in written)]
        grant_table_access(
            application.policy,
            bucket_name=config.lake_bucket_name,
            database_name=config.catalog.database_name,
            key=lake_key,
            read={name: config.table_prefix(name) for name in read},
            write={name: config.table_prefix(name) for name in written},
        )
