"""The table registry, ``config/tables.yaml``: the example loads per environment, and a broken
registry is refused with one message naming the file, the field path and the reason."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from unilake_config import ConfigError, load_environments
from unilake_config.tables import StreamingReader

ROOT = Path(__file__).resolve().parents[2]

Registry = dict[str, Any]


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(ROOT / "config", target)
    return target


def write_registry(config_dir: Path, change: Callable[[Registry], None]) -> Path:
    """Apply ``change`` to a copy of the shipped registry and write it back; return the file."""
    file = config_dir / "tables.yaml"
    data: Registry = yaml.safe_load(file.read_text())
    change(data)
    file.write_text(yaml.safe_dump(data, sort_keys=False))
    return file


def refusal(config_dir: Path, change: Callable[[Registry], None]) -> str:
    file = write_registry(config_dir, change)
    with pytest.raises(ConfigError) as error:
        load_environments(config_dir)
    message = str(error.value)
    assert message.startswith(f"{file}: "), message  # names the file first
    assert len(message.splitlines()) == 1, message  # one problem, one line
    return message


def table(data: Registry, name: str) -> dict[str, Any]:
    return next(t for t in data["tables"] if t["name"] == name)


def test_the_example_registry_loads_in_every_environment() -> None:
    for environment in load_environments(ROOT / "config"):
        assert [t.name for t in environment.tables] == [
            "transactions",
            "sales_per_minute",
            "fraud_alerts",
            "quarantine",
        ]
        transactions = environment.table("transactions")
        assert transactions.role == "source"
        assert transactions.streaming is not None
        assert [(p.transform, p.source) for p in transactions.partition_spec] == [
            ("day", "event_time"),
            ("identity", "region"),
        ]
        assert all(t.streaming is None for t in environment.tables if t.role == "sink")


def test_per_environment_overrides_apply_to_that_environment_only() -> None:
    environments = {env.name: env for env in load_environments(ROOT / "config")}
    prod, dev = environments["prod"].table("transactions"), environments["dev"].table("transactions")
    assert prod.streaming is not None
    assert dev.streaming is not None
    assert (prod.streaming.monitor_interval, prod.streaming.max_reader_downtime) == (10, 5 * 86400)
    assert (dev.streaming.monitor_interval, dev.streaming.max_reader_downtime) == (30, 3 * 86400)
    assert prod.maintenance.snapshot_retention.retention_days == 14
    assert dev.maintenance.snapshot_retention.retention_days == 7
    assert prod.maintenance.snapshot_retention.snapshots_to_retain == 10  # deep merge keeps the rest


def test_unknown_type_is_refused(config_dir: Path) -> None:
    def change(data: Registry) -> None:
        table(data, "transactions")["columns"][5]["type"] = "integer"

    message = refusal(config_dir, change)
    assert "tables[0] (transactions).columns[5] (quantity).type" in message
    assert "'integer' is not an Iceberg primitive type" in message


def test_nested_type_is_refused(config_dir: Path) -> None:
    def change(data: Registry) -> None:
        table(data, "fraud_alerts")["columns"][0]["type"] = "list<string>"

    message = refusal(config_dir, change)
    assert "tables[2] (fraud_alerts).columns[0] (rule).type" in message
    assert "nested types are not supported" in message


def test_partition_on_a_missing_column_is_refused(config_dir: Path) -> None:
    def change(data: Registry) -> None:
        table(data, "transactions")["partition_spec"] = ["day(event_time)", "identity(country)"]

    message = refusal(config_dir, change)
    assert "tables[0] (transactions)" in message
    assert "partition_spec[1]: partitions on 'country', which is not a column" in message


def test_temporal_transform_on_a_string_column_is_refused(config_dir: Path) -> None:
    def change(data: Registry) -> None:
        table(data, "quarantine")["partition_spec"] = ["day(event_time)"]  # a string "as received"

    message = refusal(config_dir, change)
    assert "tables[3] (quarantine)" in message
    assert "partition_spec[0]: day() needs a date or timestamp column" in message


def test_unknown_partition_transform_is_refused(config_dir: Path) -> None:
    def change(data: Registry) -> None:
        table(data, "transactions")["partition_spec"] = ["week(event_time)"]

    message = refusal(config_dir, change)
    assert "tables[0] (transactions).partition_spec" in message
    assert "'week(event_time)' is not a partition transform" in message


def test_duplicate_table_is_refused(config_dir: Path) -> None:
    def change(data: Registry) -> None:
        data["tables"].append(copy.deepcopy(table(data, "sales_per_minute")))

    message = refusal(config_dir, change)
    assert "tables[4].name: duplicate table 'sales_per_minute'" in message


def test_identifier_field_that_is_optional_is_refused(config_dir: Path) -> None:
    def change(data: Registry) -> None:
        table(data, "transactions")["identifier_fields"] = ["store_id"]

    message = refusal(config_dir, change)
    assert "identifier_fields: 'store_id' must be a required column" in message


def test_retention_shorter_than_the_readers_downtime_is_refused(config_dir: Path) -> None:
    def change(data: Registry) -> None:
        table(data, "transactions")["maintenance"]["snapshot_retention"]["retention_days"] = 2

    message = refusal(config_dir, change)
    assert "tables[0] (transactions)" in message
    assert (
        "maintenance.snapshot_retention.retention_days (2d) must be longer than streaming.max_reader_downtime (3d)"
        in message
    )
    assert "a reader whose last snapshot was expired cannot resume" in message


def test_an_idle_timeout_no_longer_than_the_poll_is_refused_and_0s_turns_it_off(config_dir: Path) -> None:
    def change(data: Registry) -> None:
        table(data, "transactions")["streaming"]["idle_timeout"] = "30s"

    message = refusal(config_dir, change)
    assert "tables[0] (transactions)" in message
    assert "idle_timeout (30s) must be longer than monitor_interval (30s), or 0s for never" in message
    off = StreamingReader.model_validate({"monitor_interval": "30s", "idle_timeout": "0s"})
    assert off.idle_timeout == 0
    assert StreamingReader().idle_timeout == 300  # the job's own msf default
    with pytest.raises(ValueError, match="is not a duration"):
        StreamingReader.model_validate({"idle_timeout": "-1s"})
    with pytest.raises(ValueError, match="must be a positive whole number of seconds"):
        StreamingReader.model_validate({"monitor_interval": "0s"})


def test_retention_equal_to_the_readers_downtime_is_refused(config_dir: Path) -> None:
    def change(data: Registry) -> None:
        table(data, "transactions")["streaming"]["max_reader_downtime"] = "7d"

    message = refusal(config_dir, change)
    assert "retention_days (7d) must be longer than streaming.max_reader_downtime (7d)" in message


def test_an_override_that_breaks_the_retention_rule_is_refused_naming_the_environment(config_dir: Path) -> None:
    def change(data: Registry) -> None:
        table(data, "transactions")["overrides"]["prod"]["maintenance"]["snapshot_retention"]["retention_days"] = 4

    message = refusal(config_dir, change)
    assert "tables[0] (transactions)" in message
    assert "(with the overrides for 'prod')" in message
    assert "retention_days (4d) must be longer than streaming.max_reader_downtime (5d)" in message


def test_an_override_may_not_change_the_schema(config_dir: Path) -> None:
    def change(data: Registry) -> None:
        table(data, "transactions")["overrides"]["dev"] = {"columns": []}

    message = refusal(config_dir, change)
    assert "tables[0] (transactions).overrides.dev.columns: unknown setting" in message


def test_a_source_table_without_reader_settings_is_refused(config_dir: Path) -> None:
    def change(data: Registry) -> None:
        del table(data, "transactions")["streaming"]
        del table(data, "transactions")["overrides"]

    message = refusal(config_dir, change)
    assert "streaming: a source table needs its streaming reader settings" in message


def test_disabled_retention_needs_no_downtime_check(config_dir: Path) -> None:
    def change(data: Registry) -> None:
        retention = table(data, "transactions")["maintenance"]["snapshot_retention"]
        retention.update({"enabled": False, "retention_days": 1})
        table(data, "transactions")["overrides"]["prod"]["maintenance"]["snapshot_retention"]["retention_days"] = 1

    write_registry(config_dir, change)
    environments = {env.name: env for env in load_environments(config_dir)}
    assert environments["dev"].table("transactions").maintenance.snapshot_retention.enabled is False
