"""One environment = one Stage, so `cdk synth` builds them all and `cdk deploy 'prod/*'` deploys one."""

from __future__ import annotations

from aws_cdk import Environment as CdkEnvironment
from aws_cdk import Stage, Tags
from constructs import Construct

from unilake_config import Environment, EnvironmentConfig, TableSpec

from .backfill_stack import BackfillStack
from .catalog_stack import CatalogShardStack, CatalogStack, add_catalog_shards
from .lake_stack import LakeStack
from .monitoring_stack import MonitoringStack
from .network_stack import NetworkStack
from .streaming_stack import StreamingStack


class UnilakeStage(Stage):
    config: EnvironmentConfig
    lake: LakeStack
    network: NetworkStack
    catalog: CatalogStack
    catalog_shards: dict[int, CatalogShardStack]
    streaming: StreamingStack
    backfill: BackfillStack
    monitoring: MonitoringStack
    tables: tuple[TableSpec, ...]

    def __init__(self, scope: Construct, *, environment: Environment) -> None:
        config = environment.config
        super().__init__(
            scope,
            config.name,
            env=CdkEnvironment(account=config.account, region=config.region),
        )
        self.config = config
        self.tables = environment.tables
        Tags.of(self).add("project", "unilake")
        Tags.of(self).add("environment", config.name)
        self.lake = LakeStack(self, "lake", config=config)
        self.network = NetworkStack(self, "network", config=config)
        self.catalog = CatalogStack(self, "catalog", config=config, lake_key=self.lake.storage.key)
        self.catalog_shards = add_catalog_shards(self, config=config, tables=environment.tables, catalog=self.catalog)
        self.streaming = StreamingStack(
            self,
            "streaming",
            config=config,
            tables=environment.tables,
            network=self.network.network,
            lake_key=self.lake.storage.key,
        )
        # The job loads its source and sink tables at start: deploy it after the shards that create them.
        for shard in self.catalog_shards.values():
            self.streaming.add_stack_dependency(shard, "the job reads and commits to the tables of the shards")
        self.backfill = BackfillStack(
            self,
            "backfill",
            config=config,
            network=self.network.network,
            lake_key=self.lake.storage.key,
            code=self.streaming.code,
            settings=self.streaming.settings,
        )
        self.backfill.add_stack_dependency(
            self.streaming, "the backfill runs the streaming stack's code asset, which that stack checks for the jar"
        )
        self.lake.storage.allow_managed_flink_encryption(
            *(
                self.lake.format_arn(service="kinesisanalytics", resource="application", resource_name=name)
                for name in (config.flink.application_name, config.flink.backfill_application_name)
            )
        )
        self.monitoring = MonitoringStack(self, "monitoring", config=config, tables=environment.tables)
