"""The job's settings on Managed Flink, typed, built once from the environment and the table registry.

The registry decides the tables: the source is the registry's source table, and the sinks are the tables the
job writes (``flink_app/unilake_job/properties.py``'s defaults, the catalog names of its outputs), each of which
must be a sink table of the registry. ``property_groups`` renders the settings the way Managed Flink stores them
(strings) and has the job's own parser validate them, so the stack cannot deploy a configuration the job would
refuse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flink_app.unilake_job import properties as job
from unilake_config import EnvironmentConfig, TableSpec
from unilake_config.loader import TABLES_FILE

CATALOG_NAME = "glue"


class RegistryMismatchError(ValueError):
    """The registry lacks a table the job reads or writes."""


@dataclass(frozen=True, kw_only=True)
class DeployedJobSettings:
    """What the infrastructure decides for the job; everything else keeps the job's defaults."""

    warehouse: str
    database: str
    source_table: str
    source_monitor_interval_s: int
    source_idle_timeout_s: int
    sales_table: str
    fraud_table: str
    quarantine_table: str
    window_size_s: int
    out_of_orderness_s: int
    velocity_min_transactions: int
    multi_store_min_stores: int
    high_value_min_amount: Decimal

    @classmethod
    def from_config(cls, config: EnvironmentConfig, tables: Sequence[TableSpec]) -> DeployedJobSettings:
        source = _source(tables)
        assert source.streaming is not None  # a source table has reader settings (TableSpec validates it)
        flink = config.flink
        return cls(
            warehouse=config.warehouse_uri,
            database=config.catalog.database_name,
            source_table=source.name,
            source_monitor_interval_s=source.streaming.monitor_interval,
            source_idle_timeout_s=source.streaming.idle_timeout,
            sales_table=_sink(tables, job.DEFAULT_SALES_TABLE),
            fraud_table=_sink(tables, job.DEFAULT_FRAUD_TABLE),
            quarantine_table=_sink(tables, job.DEFAULT_QUARANTINE_TABLE),
            window_size_s=flink.window_size,
            out_of_orderness_s=flink.out_of_orderness,
            velocity_min_transactions=flink.fraud.velocity_min_transactions,
            multi_store_min_stores=flink.fraud.multi_store_min_stores,
            high_value_min_amount=flink.fraud.high_value_amount,
        )

    @property
    def sink_tables(self) -> tuple[str, ...]:
        return (self.sales_table, self.fraud_table, self.quarantine_table)

    def property_groups(self) -> list[dict[str, Any]]:
        """The application's property groups: the run options, then the job's own group (validated by the job)."""
        return [job.run_options_group(), *job.to_property_groups(self.job_properties())]

    def job_properties(self) -> dict[str, object]:
        """The job's own settings (its property group's keys) for the streaming run; the backfill application
        runs the same settings in batch mode."""
        return {
            job.KEY_PROFILE: "msf",
            job.KEY_MODE: "streaming",
            job.KEY_CATALOG_NAME: CATALOG_NAME,
            job.KEY_WAREHOUSE: self.warehouse,
            job.KEY_DATABASE: self.database,
            job.KEY_SOURCE_TABLE: self.source_table,
            job.KEY_SOURCE_MONITOR_INTERVAL: f"{self.source_monitor_interval_s}s",
            job.KEY_SOURCE_IDLE_TIMEOUT: f"{self.source_idle_timeout_s}s",
            job.KEY_SINK_SALES_TABLE: self.sales_table,
            job.KEY_SINK_FRAUD_TABLE: self.fraud_table,
            job.KEY_SINK_QUARANTINE_TABLE: self.quarantine_table,
            job.KEY_WINDOW_SIZE: f"{self.window_size_s}s",
            job.KEY_OUT_OF_ORDERNESS: f"{self.out_of_orderness_s}s",
            job.KEY_VELOCITY_MIN_TRANSACTIONS: self.velocity_min_transactions,
            job.KEY_MULTI_STORE_MIN_STORES: self.multi_store_min_stores,
            job.KEY_HIGH_VALUE_MIN_AMOUNT: self.high_value_min_amount,
        }


def _source(tables: Sequence[TableSpec]) -> TableSpec:
    for table in tables:
        if table.role == "source":
            return table
    raise RegistryMismatchError(f"{TABLES_FILE}: the job reads a source table, and the registry has none")


def _sink(tables: Sequence[TableSpec], name: str) -> str:
    if any(table.name == name and table.role == "sink" for table in tables):
        return name
    raise RegistryMismatchError(f"{TABLES_FILE}: the job writes {name!r}, which is not a sink table of the registry")
