"""Settings parsing: the application_properties.json shape, defaults, and one clear error per bad input."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from flink_app.unilake_job import properties as p

MSF = {"profile": "msf", "warehouse": "s3://lake/warehouse", "database": "unilake"}


def groups(property_map: dict[str, Any], *others: dict[str, Any]) -> list[dict[str, Any]]:
    return [*others, {"PropertyGroupId": p.JOB_GROUP_ID, "PropertyMap": property_map}]


def test_defaults_follow_the_issue() -> None:
    settings = p.parse_settings(groups(MSF))
    assert settings.mode == "streaming"
    assert settings.window_size_ms == 60_000
    assert settings.out_of_orderness_ms == 5_000
    assert settings.velocity_min_transactions == 5
    assert settings.multi_store_min_stores == 3
    assert settings.high_value_min_amount == Decimal("10000.00")
    assert settings.source_monitor_interval_ms == 30_000  # msf default; local is 1 s
    assert (settings.source_table, settings.sink_sales_table) == ("transactions", "sales_per_minute")
    assert (settings.sink_fraud_table, settings.sink_quarantine_table) == ("fraud_alerts", "quarantine")
    local = p.parse_settings(groups({"profile": "local", "source.path": "in", "sink.path": "out"}))
    assert local.source_monitor_interval_ms == 1_000


def test_every_key_is_read() -> None:
    values = {
        **MSF,
        "mode": "batch",
        "catalog.name": "lake",
        "source.table": "tx",
        "source.monitor-interval": "10s",
        "source.starting-strategy": "INCREMENTAL_FROM_EARLIEST_SNAPSHOT",
        "source.start-snapshot-id": "11",
        "source.end-snapshot-id": "22",
        "sink.sales.table": "s",
        "sink.fraud.table": "f",
        "sink.quarantine.table": "q",
        "window.size": "2min",
        "watermark.out-of-orderness": "750ms",
        "fraud.velocity.min-transactions": "7",
        "fraud.multi-store.min-stores": "4",
        "fraud.high-value.min-amount": "500.5",
        "checkpoint.interval": "30s",
        "checkpoint.timeout": "5min",
        "restart.attempts": "0",
        "restart.delay": "1s",
        "parallelism": "2",
    }
    settings = p.parse_settings(groups(values))
    assert settings.catalog_name == "lake"
    assert settings.source_start_snapshot_id == 11
    assert settings.source_end_snapshot_id == 22
    assert settings.window_size_ms == 120_000
    assert settings.out_of_orderness_ms == 750
    assert settings.high_value_min_amount == Decimal("500.50")
    assert settings.checkpoint_timeout_ms == 300_000
    assert settings.restart_attempts == 0
    # A round trip through the property map gives the same settings.
    again = p.parse_settings(groups(settings.to_property_map()))
    assert again == settings
    assert set(values) <= set(p.ALL_KEYS)


BACKFILL = {**MSF, "mode": "batch", "backfill.from-day": "2026-11-24", "backfill.to-day": "2026-11-25"}


def test_a_backfill_names_whole_days_and_reads_up_to_a_snapshot() -> None:
    settings = p.parse_settings(groups({**BACKFILL, "source.end-snapshot-id": "22"}))
    assert (settings.backfill_from_day, settings.backfill_to_day) == (date(2026, 11, 24), date(2026, 11, 25))
    assert settings.source_end_snapshot_id == 22
    assert p.parse_settings(groups(settings.to_property_map())) == settings
    one_day = p.parse_settings(groups({**BACKFILL, "backfill.to-day": "2026-11-24"}))
    assert one_day.backfill_from_day == one_day.backfill_to_day
    required = p.parse_settings(groups({**BACKFILL, "backfill.required": "true"}))
    assert required.backfill_required
    assert p.parse_settings(groups(required.to_property_map())) == required


def test_other_groups_are_ignored() -> None:
    run_options = p.run_options_group()
    settings = p.parse_settings(groups(MSF, run_options))
    assert settings.profile == "msf"
    assert run_options == {
        "PropertyGroupId": "kinesis.analytics.flink.run.options",
        "PropertyMap": {"python": "main.py", "jarfile": "lib/unilake-flink-deps.jar"},
    }


@pytest.mark.parametrize(
    ("property_map", "message"),
    [
        ({}, "key 'profile': required"),
        ({"profile": "aws"}, "key 'profile': must be one of 'msf', 'local' (got 'aws')"),
        ({**MSF, "mode": "micro-batch"}, "key 'mode': must be one of"),
        ({**MSF, "windowsize": "1min"}, "key 'windowsize': unknown key"),
        ({**MSF, "window.size": "90"}, "key 'window.size': expected a duration"),
        ({**MSF, "window.size": "1500ms"}, "key 'window.size': must be a whole number of seconds"),
        ({**MSF, "fraud.velocity.min-transactions": "five"}, "key 'fraud.velocity.min-transactions': expected"),
        ({**MSF, "fraud.multi-store.min-stores": "0"}, "key 'fraud.multi-store.min-stores': must be at least 1"),
        ({**MSF, "fraud.high-value.min-amount": "1.005"}, "key 'fraud.high-value.min-amount': must be"),
        ({**MSF, "fraud.high-value.min-amount": "lots"}, "key 'fraud.high-value.min-amount': expected"),
        ({**MSF, "checkpoint.interval": "1min", "checkpoint.timeout": "10s"}, "key 'checkpoint.timeout'"),
        ({"profile": "msf", "database": "d"}, "key 'warehouse': required for profile 'msf'"),
        ({**MSF, "warehouse": "/tmp/w"}, "key 'warehouse': must be an s3:// URI"),
        ({"profile": "msf", "warehouse": "s3://b/w"}, "key 'database': required"),
        ({**MSF, "database": "my-db"}, "key 'database': must be a plain identifier"),
        ({**MSF, "source.end-snapshot-id": "5"}, "key 'source.end-snapshot-id': only allowed in batch mode"),
        ({**MSF, "source.starting-strategy": "INCREMENTAL_AFTER_SNAPSHOT_ID"}, "key 'source.start-snapshot-id'"),
        ({**MSF, "source.start-snapshot-id": "42"}, "'source.start-snapshot-id': required with starting strategy"),
        ({**MSF, "source.starting-strategy": "INCREMENTAL_FROM_SNAPSHOT_ID"}, "'source.starting-strategy': Iceberg's"),
        ({**MSF, "source.starting-strategy": "LATEST"}, "key 'source.starting-strategy': must be one of"),
        ({"profile": "local", "sink.path": "out"}, "key 'source.path': required for profile 'local'"),
        ({"profile": "local", "source.path": "in"}, "key 'sink.path': required for profile 'local'"),
        ({"profile": "local", "source.path": "i", "sink.path": "o", "source.start-snapshot-id": "1"}, "msf"),
        ({**MSF, "parallelism": 2}, "key 'parallelism': values must be strings"),
        ({**BACKFILL, "backfill.to-day": ""}, "key 'backfill.to-day': required with backfill.from-day"),
        ({**BACKFILL, "backfill.from-day": ""}, "key 'backfill.from-day': required with backfill.to-day"),
        ({**BACKFILL, "backfill.to-day": "2026-11-23"}, "key 'backfill.to-day': must not be before"),
        ({**BACKFILL, "backfill.from-day": "2026-02-30"}, "key 'backfill.from-day': expected a UTC day"),
        ({**BACKFILL, "backfill.from-day": "24.11.2026"}, "key 'backfill.from-day': expected a UTC day"),
        ({**BACKFILL, "mode": "streaming"}, "key 'backfill.from-day': a backfill runs with profile 'msf' in batch"),
        ({**BACKFILL, "source.start-snapshot-id": "7"}, "key 'source.start-snapshot-id': not allowed in a day"),
        ({**BACKFILL, "window.size": "7min"}, "key 'window.size': must divide a day for a backfill"),
        ({**MSF, "mode": "batch", "backfill.required": "true"}, "key 'backfill.from-day': required: this app"),
        ({**BACKFILL, "backfill.required": "yes"}, "key 'backfill.required': must be one of 'true', 'false'"),
    ],
)
def test_bad_settings_name_group_key_and_reason(property_map: dict[str, Any], message: str) -> None:
    with pytest.raises(p.SettingsError) as caught:
        p.parse_settings(groups(property_map))
    assert message in str(caught.value)
    if "key '" in message:
        assert str(caught.value).startswith("group 'unilake.job', key '")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"PropertyGroupId": "unilake.job"}, "expected a list"),
        ([{"PropertyMap": {}}], "item 0: expected an object with a string 'PropertyGroupId'"),
        ([{"PropertyGroupId": "other", "PropertyMap": {}}], "group 'unilake.job' is missing"),
        ([{"PropertyGroupId": "unilake.job", "PropertyMap": []}], "'PropertyMap' must be an object"),
        (groups(MSF) + groups(MSF), "appears more than once"),
    ],
)
def test_bad_document_shape(document: Any, message: str) -> None:
    with pytest.raises(p.SettingsError, match=message):
        p.parse_settings(document)


def test_load_settings_names_the_file_and_applies_overrides(tmp_path: Path) -> None:
    path = tmp_path / "application_properties.json"
    path.write_text(json.dumps(groups({"profile": "local", "source.path": "in", "sink.path": "out"})))
    settings = p.load_settings(path, overrides={"mode": "batch", "sink.path": "elsewhere"})
    assert (settings.mode, settings.sink_path) == ("batch", "elsewhere")
    path.write_text("{not json")
    with pytest.raises(p.SettingsError, match=f"^{path}: not valid JSON"):
        p.load_settings(path)
    with pytest.raises(p.SettingsError, match="file not found"):
        p.load_settings(tmp_path / "missing.json")
    path.write_text(json.dumps(groups({"profile": "local", "source.path": "in"})))
    with pytest.raises(p.SettingsError, match=f"^{path}: group 'unilake.job', key 'sink.path'"):
        p.load_settings(path)


def test_to_property_groups_validates_and_renders_strings() -> None:
    built = p.to_property_groups({**MSF, "window.size": "1min", "fraud.velocity.min-transactions": 6})
    assert built == [
        {
            "PropertyGroupId": "unilake.job",
            "PropertyMap": {**MSF, "window.size": "1min", "fraud.velocity.min-transactions": "6"},
        }
    ]
    with pytest.raises(p.SettingsError, match="key 'mode'"):
        p.to_property_groups({**MSF, "mode": "sometimes"})
    with pytest.raises(p.SettingsError, match="key 'parallelism': expected a string or a number"):
        p.to_property_groups({**MSF, "parallelism": True})


@pytest.mark.parametrize(
    ("millis", "text"), [(60_000, "1min"), (30_000, "30s"), (250, "250ms"), (3_600_000, "1h"), (90_000, "90s")]
)
def test_format_duration(millis: int, text: str) -> None:
    assert p.format_duration(millis) == text


@pytest.mark.parametrize("name", ["application_properties.msf.json", "application_properties.local.json"])
def test_example_files_parse(name: str) -> None:
    path = Path(__file__).resolve().parents[2] / "flink_app" / "examples" / name
    settings = p.load_settings(path)
    assert settings.profile in name


def test_start_position_is_explicit_and_never_counts_the_latest_snapshot_twice() -> None:
    assert p.parse_settings(groups(MSF)).source_starting_strategy == "INCREMENTAL_FROM_LATEST_SNAPSHOT_EXCLUSIVE"
    with pytest.raises(p.SettingsError, match=re.escape("'source.starting-strategy': reads the latest snapshot again")):
        p.parse_settings(groups({**MSF, "source.starting-strategy": "INCREMENTAL_FROM_LATEST_SNAPSHOT"}))
    by_time = {**MSF, "source.starting-strategy": "INCREMENTAL_FROM_SNAPSHOT_TIMESTAMP"}
    with pytest.raises(
        p.SettingsError, match=re.escape("'source.start-snapshot-timestamp': required with starting strategy")
    ):
        p.parse_settings(groups(by_time))
    settings = p.parse_settings(groups({**by_time, "source.start-snapshot-timestamp": "1764064800000"}))
    assert settings.source_start_snapshot_timestamp_ms == 1_764_064_800_000
    with pytest.raises(
        p.SettingsError, match=re.escape("'source.start-snapshot-timestamp': required with starting strategy")
    ):
        p.parse_settings(groups({**MSF, "source.start-snapshot-timestamp": "1764064800000"}))
    with pytest.raises(
        p.SettingsError, match=re.escape("'source.start-snapshot-timestamp': only allowed in streaming mode")
    ):
        p.parse_settings(groups({**MSF, "mode": "batch", "source.start-snapshot-timestamp": "1"}))


def test_idle_timeout_defaults_per_profile_and_outlasts_the_monitor_interval() -> None:
    """local: two monitor intervals (a silent reader of the folder watcher stops holding the watermark);
    msf: five minutes, whatever the monitor interval (the quiet watermark's lag, a producer contract); a
    streaming msf timeout no longer than the monitor interval would pass records still to come."""
    local = {"profile": "local", "source.path": "/in", "sink.path": "/out"}
    assert p.parse_settings(groups(local)).source_idle_timeout_ms == 2_000
    assert p.parse_settings(groups({**local, "source.monitor-interval": "3s"})).source_idle_timeout_ms == 6_000
    assert p.parse_settings(groups(MSF)).source_idle_timeout_ms == 300_000
    assert p.parse_settings(groups({**MSF, "source.monitor-interval": "10s"})).source_idle_timeout_ms == 300_000
    assert p.parse_settings(groups({**MSF, "source.idle-timeout": "0ms"})).source_idle_timeout_ms == 0
    assert (
        p.parse_settings(groups({**MSF, "source.idle-timeout": "90s"})).to_property_map()["source.idle-timeout"]
        == "90s"
    )
    with pytest.raises(p.SettingsError, match=re.escape("'source.idle-timeout': expected a duration")):
        p.parse_settings(groups({**MSF, "source.idle-timeout": "soon"}))
    with pytest.raises(p.SettingsError) as caught:
        p.parse_settings(groups({**MSF, "source.monitor-interval": "30s", "source.idle-timeout": "30s"}))
    assert caught.value.key == "source.idle-timeout"
    assert "must be longer than source.monitor-interval (30s), or 0ms for never" in str(caught.value)
    # A bounded run has no quiet period: any timeout passes.
    assert p.parse_settings(groups({**MSF, "mode": "batch", "source.idle-timeout": "1s"})).source_idle_timeout_ms


def test_a_stream_starts_after_the_snapshot_id_as_a_bounded_read_does() -> None:
    """One meaning of source.start-snapshot-id: after that snapshot. Iceberg's inclusive start at an id is
    refused with the replacement named, with or without an id."""
    after = p.parse_settings(
        groups({**MSF, "source.starting-strategy": "INCREMENTAL_AFTER_SNAPSHOT_ID", "source.start-snapshot-id": "42"})
    )
    assert (after.source_starting_strategy, after.source_start_snapshot_id) == ("INCREMENTAL_AFTER_SNAPSHOT_ID", 42)
    inclusive = {**MSF, "source.starting-strategy": "INCREMENTAL_FROM_SNAPSHOT_ID", "source.start-snapshot-id": "42"}
    with pytest.raises(p.SettingsError) as caught:
        p.parse_settings(groups(inclusive))
    assert caught.value.key == "source.starting-strategy"
    assert "inclusive" in str(caught.value)
    assert "use INCREMENTAL_AFTER_SNAPSHOT_ID" in str(caught.value)
    # A bounded run keeps its exclusive start-snapshot-id, whatever the (streaming-only) strategy says.
    batch = p.parse_settings(groups({**MSF, "mode": "batch", "source.start-snapshot-id": "42"}))
    assert batch.source_start_snapshot_id == 42
