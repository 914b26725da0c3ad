"""The catalog: one stack with the Glue database and the optimizer role, and the per-table
resources (Iceberg table + its three optimizers) spread over ``catalog-NN`` shard stacks.

Sharding. CloudFormation allows 500 resources and 1 MB per stack. A table's shard is a stable
hash of its name (SHA-256, not Python's salted ``hash()``) modulo ``catalog.shard_count``, fixed
for the life of an environment, so adding or removing a table never moves another one (a move
would delete and re-create the table). Only non-empty shards get a stack. A shard over the
limits we keep (450 resources, 800 KB) fails synth with a message naming it: first by count when
the app is built, then by the written template's real size and resource count.

Shard stacks take names, not tokens, from the catalog stack (database name, optimizer role
name), so they need no cross-stack export; an explicit dependency orders the deployment.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from aws_cdk import DefaultStackSynthesizer, ISynthesisSession, Stack
from aws_cdk import aws_kms as kms
from constructs import Construct

from cdk_constructs.glue_database import GlueDatabase
from cdk_constructs.iceberg_table import IcebergTable
from cdk_constructs.table_maintenance import OPTIMIZER_TYPES, TableMaintenance, TableOptimizerRole
from unilake_config import EnvironmentConfig, TableSpec

MAX_RESOURCES = 450
MAX_TEMPLATE_BYTES = 800 * 1024
RESOURCES_PER_TABLE = 1 + len(OPTIMIZER_TYPES)  # AWS::Glue::Table + one AWS::Glue::TableOptimizer per type
RESOURCES_PER_STACK = 1  # AWS::CDK::Metadata


class ShardLimitError(ValueError):
    """A catalog shard would exceed the per-stack limits we keep."""


# --- pure sharding ------------------------------------------------------------------------------


def shard_of(table_name: str, shard_count: int) -> int:
    """The shard of a table: SHA-256 of its name, first 8 bytes as an integer, modulo the shard count."""
    if shard_count < 1:
        raise ValueError("shard_count must be at least 1")
    digest = hashlib.sha256(table_name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % shard_count


def assign_shards(table_names: Iterable[str], shard_count: int) -> dict[int, tuple[str, ...]]:
    """Non-empty shards, in shard order, each with its tables in the order given."""
    shards: dict[int, list[str]] = {}
    for name in table_names:
        shards.setdefault(shard_of(name, shard_count), []).append(name)
    return {shard: tuple(shards[shard]) for shard in sorted(shards)}


def shard_stack_id(shard: int) -> str:
    return f"catalog-{shard:02d}"


def check_shard_sizes(
    assignment: Mapping[int, Sequence[str]], *, max_resources: int = MAX_RESOURCES, environment: str = ""
) -> None:
    """Refuse an assignment whose shards would hold more resources than ``max_resources``."""
    for shard, tables in assignment.items():
        resources = RESOURCES_PER_STACK + RESOURCES_PER_TABLE * len(tables)
        if resources > max_resources:
            raise ShardLimitError(
                f"{environment}/{shard_stack_id(shard)}: {len(tables)} tables make {resources} resources, over "
                f"the {max_resources} we allow per stack (CloudFormation's limit is 500). Raise "
                "catalog.shard_count for a new environment; in a deployed one that moves tables between "
                "stacks, which replaces them."
            )


class LimitCheckedSynthesizer(DefaultStackSynthesizer):
    """The default synthesizer, then a check of the written template's size and resource count."""

    def __init__(self, *, max_resources: int = MAX_RESOURCES, max_bytes: int = MAX_TEMPLATE_BYTES) -> None:
        super().__init__()
        self._max_resources = max_resources
        self._max_bytes = max_bytes
        self._checked_stack: Stack | None = None

    def bind(self, stack: Stack) -> None:
        super().bind(stack)
        self._checked_stack = stack

    def synthesize(self, session: ISynthesisSession) -> None:
        super().synthesize(session)
        stack = self._checked_stack
        assert stack is not None, "synthesizer used before bind()"
        check_template_limits(
            Path(session.outdir) / stack.template_file,
            name=stack.node.path,
            max_resources=self._max_resources,
            max_bytes=self._max_bytes,
        )


def check_template_limits(path: Path, *, name: str, max_resources: int, max_bytes: int) -> None:
    size = path.stat().st_size
    template: dict[str, Any] = json.loads(path.read_text())
    resources = len(template.get("Resources", {}))
    if resources > max_resources or size > max_bytes:
        raise ShardLimitError(
            f"{name}: the template has {resources} resources and {size:,} bytes; we keep every stack "
            f"under {max_resources} resources and {max_bytes:,} bytes (CloudFormation: 500 and 1 MB)"
        )


# --- stacks -------------------------------------------------------------------------------------


def optimizer_role_name(config: EnvironmentConfig) -> str:
    return f"unilake-{config.name}-table-optimizer-{config.region}"


class CatalogStack(Stack):
    """The Glue database and the role of its table optimizers."""

    database: GlueDatabase
    optimizer_role: TableOptimizerRole
    optimizer_role_name: str

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        lake_key: kms.IKey,
    ) -> None:
        """``lake_key`` is the lake bucket's key (``LakeStack.storage.key``); the bucket itself is
        named by the config (``config.lake_bucket_name``)."""
        super().__init__(
            scope,
            construct_id,
            description=f"unilake {config.name}: Glue database {config.catalog.database_name} and its optimizer role",
            termination_protection=config.termination_protection,
        )
        database_name = config.catalog.database_name
        self.database = GlueDatabase(
            self,
            "Database",
            database_name=database_name,
            location_uri=config.database_location,
            description=f"unilake {config.name}: Iceberg tables declared in config/tables.yaml",
            removal_policy=config.cdk_removal_policy,
        )
        self.optimizer_role_name = optimizer_role_name(config)
        self.optimizer_role = TableOptimizerRole(
            self,
            "TableOptimizer",
            role_name=self.optimizer_role_name,
            database_name=database_name,
            bucket_name=config.lake_bucket_name,
            warehouse_prefix=config.database_prefix,
            key=lake_key,
        )

    @property
    def database_name(self) -> str:
        return self.database.database_name

    def table_arn(self, table_name: str) -> str:
        return self.database.table_arn(table_name)


class CatalogShardStack(Stack):
    """The Iceberg tables of one shard and their optimizers."""

    shard: int
    tables: dict[str, IcebergTable]
    maintenance: dict[str, TableMaintenance]

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        shard: int,
        tables: Sequence[TableSpec],
        optimizer_role_name: str,
        max_resources: int = MAX_RESOURCES,
        max_bytes: int = MAX_TEMPLATE_BYTES,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=(
                f"unilake {config.name}: Iceberg tables of catalog shard {shard} of {config.catalog.shard_count} "
                "and their Glue optimizers"
            ),
            termination_protection=config.termination_protection,
            synthesizer=LimitCheckedSynthesizer(max_resources=max_resources, max_bytes=max_bytes),
        )
        self.shard = shard
        database_name = config.catalog.database_name
        role_arn = TableOptimizerRole.arn_for(self, optimizer_role_name)
        self.tables = {}
        self.maintenance = {}
        for table in tables:
            if shard_of(table.name, config.catalog.shard_count) != shard:
                raise ValueError(f"table {table.name!r} does not belong to shard {shard}")
            iceberg = IcebergTable(
                self,
                table.name,
                table=table,
                database_name=database_name,
                location=config.table_location(table.name),
                removal_policy=config.cdk_removal_policy,
            )
            maintenance = TableMaintenance(
                iceberg,
                "Maintenance",
                database_name=database_name,
                table_name=table.name,
                maintenance=table.maintenance,
                role_arn=role_arn,
            )
            for optimizer in maintenance.optimizers.values():
                optimizer.add_resource_dependency(iceberg.resource)
            self.tables[table.name] = iceberg
            self.maintenance[table.name] = maintenance


def add_catalog_shards(
    scope: Construct,
    *,
    config: EnvironmentConfig,
    tables: Sequence[TableSpec],
    catalog: CatalogStack,
    max_resources: int = MAX_RESOURCES,
    max_bytes: int = MAX_TEMPLATE_BYTES,
) -> dict[int, CatalogShardStack]:
    """One ``catalog-NN`` stack per non-empty shard, each deployed after the catalog stack."""
    by_name = {table.name: table for table in tables}
    assignment = assign_shards(by_name, config.catalog.shard_count)
    check_shard_sizes(assignment, max_resources=max_resources, environment=config.name)
    shards = {}
    for shard, names in assignment.items():
        stack = CatalogShardStack(
            scope,
            shard_stack_id(shard),
            config=config,
            shard=shard,
            tables=[by_name[name] for name in names],
            optimizer_role_name=catalog.optimizer_role_name,
            max_resources=max_resources,
            max_bytes=max_bytes,
        )
        stack.add_stack_dependency(catalog, "tables go into the database; optimizers run as its role")
        shards[shard] = stack
    return shards
