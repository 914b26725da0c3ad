"""DeployedJobSettings: typed, from the environment and the registry, accepted by the job's own parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from flink_app.unilake_job import properties as job
from stacks.job_settings import DeployedJobSettings, RegistryMismatchError
from unilake_config import Environment, load_environments

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def prod() -> Environment:
    (environment,) = load_environments(ROOT / "config", only=["prod"])
    return environment


def test_tables_come_from_the_registry_and_the_rest_from_the_environment(prod: Environment) -> None:
    settings = DeployedJobSettings.from_config(prod.config, prod.tables)
    source = next(table for table in prod.tables if table.role == "source")
    assert source.streaming is not None
    assert settings.source_table == source.name
    assert settings.source_monitor_interval_s == source.streaming.monitor_interval == 10  # prod's override
    assert set(settings.sink_tables) == {table.name for table in prod.tables if table.role == "sink"}
    assert settings.warehouse == prod.config.warehouse_uri
    assert settings.window_size_s == prod.config.flink.window_size


def test_the_job_parses_what_is_deployed_to_the_same_values(prod: Environment) -> None:
    settings = DeployedJobSettings.from_config(prod.config, prod.tables)
    parsed = job.parse_settings(settings.property_groups())
    assert (parsed.profile, parsed.mode, parsed.database) == ("msf", "streaming", settings.database)
    assert (parsed.sink_sales_table, parsed.sink_fraud_table, parsed.sink_quarantine_table) == settings.sink_tables
    assert parsed.source_monitor_interval_ms == settings.source_monitor_interval_s * 1000
    assert parsed.source_idle_timeout_ms == settings.source_idle_timeout_s * 1000 == 300_000  # tables.yaml
    assert parsed.high_value_min_amount == settings.high_value_min_amount


def test_a_registry_without_a_sink_the_job_writes_is_refused_naming_the_file(prod: Environment) -> None:
    tables = tuple(table for table in prod.tables if table.name != job.DEFAULT_FRAUD_TABLE)
    with pytest.raises(
        RegistryMismatchError, match=r"^tables.yaml: the job writes 'fraud_alerts', which is not a sink"
    ):
        DeployedJobSettings.from_config(prod.config, tables)


def test_a_registry_without_a_source_is_refused(prod: Environment) -> None:
    tables = tuple(table for table in prod.tables if table.role == "sink")
    with pytest.raises(RegistryMismatchError, match="the job reads a source table, and the registry has none"):
        DeployedJobSettings.from_config(prod.config, tables)
