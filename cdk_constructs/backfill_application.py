"""BackfillApplication: a second Managed Flink application that runs the same job in batch mode, for backfills.

Why a second application (flink_app/README.md, "Backfills"; ops/README.md, "backfill"):

- Managed Flink runs one job per application, and the streaming application must keep running while a
  backfill runs.
- An application is created READY by CloudFormation and only runs after ``StartApplication``; a READY
  application costs nothing (billing is per KPU-second while it runs). A bounded job that finishes leaves the
  application RUNNING, and billed, until ``StopApplication`` ("It will keep the KDA application running even if
  the Flink application has successfully terminated": aws-samples/amazon-kinesis-analytics-taxi-consumer
  issue 4), so ``python -m ops backfill`` stops it once the job is done.
- A READY application can be reconfigured (``UpdateApplication`` of its property group: the days to
  backfill) and started again, as often as needed.

Nothing here starts it: a deploy leaves it READY. It runs the same code asset with ``mode=batch`` and
``backfill.required=true``, so the job refuses to run without the days ``ops backfill`` sets. Snapshots
are off (a batch job has no state worth keeping, and a stop must not wait for a savepoint) and so is
autoscaling (it acts after 15 minutes of high CPU, longer than a typical backfill). Its role is its own:
the caller grants it exactly the tables it reads and overwrites.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from flink_app.unilake_job import properties as job
from nag_rules import reasons
from nag_rules.acknowledgments import acknowledge

from .flink_application import FlinkApplication


class BackfillApplication(Construct):
    """The backfill application (``flink``: its role, security group, logs and the CfnApplication)."""

    flink: FlinkApplication
    property_groups: list[dict[str, object]]

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        application_name: str,
        runtime: str,
        code: s3_assets.Asset,
        job_settings: Mapping[str, object],
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        parallelism: int = 1,
        parallelism_per_kpu: int = 1,
        log_retention_days: int = 90,
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        # Validated as a batch run, then marked: the job refuses to run until `ops backfill` adds the days
        # (so a Run from the console cannot append the whole source table to the sinks a second time).
        groups = job.to_property_groups({**job_settings, job.KEY_MODE: "batch"})
        groups[0]["PropertyMap"][job.KEY_BACKFILL_REQUIRED] = "true"
        self.property_groups = [job.run_options_group(), *groups]
        self.flink = FlinkApplication(
            self,
            "Job",
            application_name=application_name,
            runtime=runtime,
            code=code,
            property_groups=self.property_groups,
            vpc=vpc,
            subnets=subnets,
            # A bounded job in batch mode takes no checkpoints; the service requires a configuration.
            checkpoint_interval=Duration.minutes(1),
            min_pause_between_checkpoints=Duration.seconds(5),
            snapshots=False,
            parallelism=parallelism,
            parallelism_per_kpu=parallelism_per_kpu,
            autoscaling=False,
            log_retention_days=log_retention_days,
            encryption_key=encryption_key,
            removal_policy=removal_policy,
        )
        acknowledge(self.flink.application, "Unilake-FlinkCheckpoints", reason=reasons.BACKFILL_NO_SNAPSHOTS)
