"""The backfill stack: per environment, the Managed Flink application that runs day backfills.

The same code asset as the streaming application (passed in: the streaming stack uploads it and refuses a
zip without the dependency jar, and this stack deploys after it), in batch mode, with its own role: it reads
the source table and every table the job checks exists, and writes only the sinks a backfill overwrites
(``BACKFILL_SINK_KEYS``). A deploy creates or updates it and leaves it READY: only ``python -m ops
backfill`` starts it (cdk_constructs/backfill_application.py says why).
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from cdk_constructs.backfill_application import BackfillApplication
from cdk_constructs.network import Network
from flink_app.unilake_job import properties as job
from unilake_config import EnvironmentConfig, TableSpec

from .lake_stack import removal_policy
from .streaming_stack import grant_tables, job_settings


class BackfillStack(Stack):
    backfill: BackfillApplication

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        tables: tuple[TableSpec, ...],
        network: Network,
        lake_key: kms.IKey,
        code: s3_assets.Asset,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"unilake {config.name}: the Managed Flink application for backfills (started by ops)",
        )
        flink = config.flink
        settings = job_settings(config, tables)
        self.backfill = BackfillApplication(
            self,
            "Backfill",
            application_name=flink.backfill_application_name,
            runtime=flink.runtime,
            code=code,
            job_settings=settings,
            vpc=network.vpc,
            subnets=network.isolated_subnets,
            parallelism=flink.parallelism,
            parallelism_per_kpu=flink.parallelism_per_kpu,
            log_retention_days=flink.log_retention_days,
            encryption_key=lake_key,
            removal_policy=removal_policy(config),
        )
        application = self.backfill.flink
        application.allow_https_to(network.endpoint_security_group)
        application.security_group.add_egress_rule(
            ec2.Peer.prefix_list(config.network.s3_prefix_list_id),
            ec2.Port.tcp(443),
            "HTTPS to S3 through the gateway endpoint",
        )
        grant_tables(
            self, application, config=config, settings=settings, key=lake_key, written_sinks=job.BACKFILL_SINK_KEYS
        )
