"""Application properties of the unified job: the one definition of their group id, keys and defaults.

Pure Python on purpose (no pyflink import): the CDK side imports these names to build the Managed Flink
application's property groups, and the job parses the same shape at run time, from
``/etc/flink/application_properties.json`` on Managed Flink or from a local file otherwise.

The file shape is the one Managed Flink writes::

    [{"PropertyGroupId": "unilake.job", "PropertyMap": {"profile": "msf", "mode": "streaming", ...}}]

Every value is a string (Managed Flink only stores strings). Groups other than ``unilake.job`` are ignored
(the service also lists ``kinesis.analytics.flink.run.options`` there); an unknown key inside
``unilake.job`` is an error, so a typo never falls back silently to a default.

Public names (stable, imported by the infrastructure):

- :data:`JOB_GROUP_ID` and the ``KEY_*`` constants;
- :data:`RUN_OPTIONS_GROUP_ID`, :data:`RUN_OPTION_PYTHON`, :data:`RUN_OPTION_JARFILE`,
  :func:`run_options_group`;
- :class:`JobSettings` (frozen), :func:`parse_settings` (settings from the file shape),
  :func:`to_property_groups` (a mapping of settings to the file shape), :class:`SettingsError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final, Literal

#: Property group holding every setting of the job.
JOB_GROUP_ID: Final = "unilake.job"

#: Property group Managed Flink reads to start a PyFlink application (python=main.py, jarfile=lib/<deps>.jar).
RUN_OPTIONS_GROUP_ID: Final = "kinesis.analytics.flink.run.options"
RUN_OPTION_PYTHON: Final = "python"
RUN_OPTION_JARFILE: Final = "jarfile"
#: Name of the dependency jar inside the zip (built by flink_app/pom.xml).
DEPENDENCY_JAR_NAME: Final = "unilake-flink-deps.jar"

#: Where Managed Flink writes the application properties at run time.
MSF_PROPERTIES_PATH: Final = "/etc/flink/application_properties.json"

# --- keys of the JOB_GROUP_ID group -------------------------------------------------------------------------
KEY_PROFILE: Final = "profile"  # "msf" | "local" (required)
KEY_MODE: Final = "mode"  # "streaming" | "batch"
KEY_CATALOG_NAME: Final = "catalog.name"  # Flink name of the Iceberg catalog (msf)
KEY_WAREHOUSE: Final = "warehouse"  # s3://bucket/prefix (msf, required there)
KEY_DATABASE: Final = "database"  # Glue database (msf, required there)
KEY_SOURCE_TABLE: Final = "source.table"
KEY_SOURCE_MONITOR_INTERVAL: Final = "source.monitor-interval"  # Iceberg poll / local folder discovery
KEY_SOURCE_STARTING_STRATEGY: Final = "source.starting-strategy"  # msf streaming only
#: Snapshot A of "after snapshot A" (exclusive, msf): a bounded append run reads the appends after A; a stream
#: with starting strategy INCREMENTAL_AFTER_SNAPSHOT_ID starts with the first snapshot after A.
KEY_SOURCE_START_SNAPSHOT_ID: Final = "source.start-snapshot-id"
KEY_SOURCE_START_SNAPSHOT_TIMESTAMP: Final = "source.start-snapshot-timestamp"  # msf streaming, epoch ms
#: local: table.exec.source.idle-timeout (a silent reader stops holding the watermark back); msf streaming:
#: after this long with nothing read, the watermark follows the clock (now - idle timeout). "0ms": never.
KEY_SOURCE_IDLE_TIMEOUT: Final = "source.idle-timeout"
KEY_SOURCE_END_SNAPSHOT_ID: Final = "source.end-snapshot-id"  # msf batch only (inclusive upper bound)
#: A backfill (msf batch): the whole UTC event-time days FROM..TO (inclusive, YYYY-MM-DD) are recomputed from
#: every record of those days in the source up to and including snapshot ``source.end-snapshot-id`` (or the
#: current one), and replace those days in the sinks (INSERT OVERWRITE: Iceberg's dynamic partition overwrite
#: of the day partitions written). Running it twice leaves the sinks as running it once.
KEY_BACKFILL_FROM_DAY: Final = "backfill.from-day"
KEY_BACKFILL_TO_DAY: Final = "backfill.to-day"
#: "true" on the backfill application: the job refuses to run without a day range (a bounded read of the whole
#: table appended to the sinks would double every row the stream already wrote).
KEY_BACKFILL_REQUIRED: Final = "backfill.required"
KEY_SOURCE_PATH: Final = "source.path"  # local input folder of *.jsonl files
KEY_SINK_PATH: Final = "sink.path"  # local output folder (one sub-folder per table)
KEY_SINK_SALES_TABLE: Final = "sink.sales.table"
KEY_SINK_FRAUD_TABLE: Final = "sink.fraud.table"
KEY_SINK_QUARANTINE_TABLE: Final = "sink.quarantine.table"
#: The sinks a backfill writes (sql.backfill_inserts): quarantine is partitioned by ingest time, not event time.
BACKFILL_SINK_KEYS: Final = (KEY_SINK_SALES_TABLE, KEY_SINK_FRAUD_TABLE)
KEY_WINDOW_SIZE: Final = "window.size"
KEY_OUT_OF_ORDERNESS: Final = "watermark.out-of-orderness"
KEY_VELOCITY_MIN_TRANSACTIONS: Final = "fraud.velocity.min-transactions"
KEY_MULTI_STORE_MIN_STORES: Final = "fraud.multi-store.min-stores"
KEY_HIGH_VALUE_MIN_AMOUNT: Final = "fraud.high-value.min-amount"
KEY_CHECKPOINT_INTERVAL: Final = "checkpoint.interval"
KEY_CHECKPOINT_TIMEOUT: Final = "checkpoint.timeout"
KEY_RESTART_ATTEMPTS: Final = "restart.attempts"
KEY_RESTART_DELAY: Final = "restart.delay"
KEY_PARALLELISM: Final = "parallelism"  # local only; Managed Flink sets parallelism itself
# Optional Iceberg catalog properties (msf only), for a Glue and S3 other than the region's own (tests and the
# msf demo point them at a local moto server). None has a default: unset, the catalog is exactly as before.
# Credentials are never settings: the AWS SDK's default chain (environment, then the service role) finds them.
KEY_CATALOG_GLUE_ENDPOINT: Final = "catalog.glue.endpoint"
KEY_CATALOG_S3_ENDPOINT: Final = "catalog.s3.endpoint"
KEY_CATALOG_S3_PATH_STYLE_ACCESS: Final = "catalog.s3.path-style-access"
KEY_CATALOG_CLIENT_REGION: Final = "catalog.client.region"
#: Job key -> Iceberg catalog property (iceberg docs/docs/aws.md: glue.endpoint, s3.endpoint,
#: s3.path-style-access, client.region).
CATALOG_PROPERTY_KEYS: Final = {
    KEY_CATALOG_GLUE_ENDPOINT: "glue.endpoint",
    KEY_CATALOG_S3_ENDPOINT: "s3.endpoint",
    KEY_CATALOG_S3_PATH_STYLE_ACCESS: "s3.path-style-access",
    KEY_CATALOG_CLIENT_REGION: "client.region",
}

ALL_KEYS: Final = (
    KEY_PROFILE,
    KEY_MODE,
    KEY_CATALOG_NAME,
    KEY_WAREHOUSE,
    KEY_DATABASE,
    KEY_SOURCE_TABLE,
    KEY_SOURCE_MONITOR_INTERVAL,
    KEY_SOURCE_STARTING_STRATEGY,
    KEY_SOURCE_START_SNAPSHOT_ID,
    KEY_SOURCE_START_SNAPSHOT_TIMESTAMP,
    KEY_SOURCE_END_SNAPSHOT_ID,
    KEY_BACKFILL_FROM_DAY,
    KEY_BACKFILL_TO_DAY,
    KEY_BACKFILL_REQUIRED,
    KEY_SOURCE_IDLE_TIMEOUT,
    KEY_SOURCE_PATH,
    KEY_SINK_PATH,
    KEY_SINK_SALES_TABLE,
    KEY_SINK_FRAUD_TABLE,
    KEY_SINK_QUARANTINE_TABLE,
    KEY_WINDOW_SIZE,
    KEY_OUT_OF_ORDERNESS,
    KEY_VELOCITY_MIN_TRANSACTIONS,
    KEY_MULTI_STORE_MIN_STORES,
    KEY_HIGH_VALUE_MIN_AMOUNT,
    KEY_CHECKPOINT_INTERVAL,
    KEY_CHECKPOINT_TIMEOUT,
    KEY_RESTART_ATTEMPTS,
    KEY_RESTART_DELAY,
    KEY_PARALLELISM,
    *CATALOG_PROPERTY_KEYS,
)

Profile = Literal["msf", "local"]
Mode = Literal["streaming", "batch"]
PROFILES: Final = ("msf", "local")
MODES: Final = ("streaming", "batch")

#: The job's streaming start after snapshot ``source.start-snapshot-id`` (exclusive).
AFTER_SNAPSHOT_STRATEGY: Final = "INCREMENTAL_AFTER_SNAPSHOT_ID"
#: Iceberg's start at a snapshot id (inclusive), refused as a setting.
ICEBERG_FROM_SNAPSHOT_STRATEGY: Final = "INCREMENTAL_FROM_SNAPSHOT_ID"

#: Starting strategies of Iceberg's FLIP-27 source (StreamingStartingStrategy, ContinuousSplitPlannerImpl):
#: where a streaming run without restored state starts. Only the first matters once state is restored.
STARTING_STRATEGIES: Final = (
    # After the latest snapshot (exclusive): only what is committed after the start. The default, the one
    # start without state that never reads a record twice when the table already has snapshots.
    "INCREMENTAL_FROM_LATEST_SNAPSHOT_EXCLUSIVE",
    # Every APPEND snapshot still in the table's history (inclusive): a first run over existing data.
    "INCREMENTAL_FROM_EARLIEST_SNAPSHOT",
    # After source.start-snapshot-id = A (exclusive: A's appends are not read), the project's one contract for
    # "after A" (flink_app/README.md, "The range contract"). Not an Iceberg strategy: job.resolve_start maps it
    # at start, through the catalog, to Iceberg's INCREMENTAL_FROM_SNAPSHOT_ID on A's child, or to
    # INCREMENTAL_FROM_LATEST_SNAPSHOT_EXCLUSIVE when A is the current snapshot.
    AFTER_SNAPSHOT_STRATEGY,
    # Iceberg's own start at a snapshot id, INCLUSIVE (it reads snapshot A itself): the opposite of what
    # source.start-snapshot-id means everywhere else in this job. Kept only to be refused with a reason (and as
    # the Iceberg strategy job.resolve_start maps to, on A's child).
    ICEBERG_FROM_SNAPSHOT_STRATEGY,
    # From the first snapshot committed at or after source.start-snapshot-timestamp (inclusive).
    "INCREMENTAL_FROM_SNAPSHOT_TIMESTAMP",
    # Iceberg's own default, the latest snapshot INCLUSIVE: that snapshot is read again after a start
    # without state, its records counted twice in the sinks. Kept only to be refused with a reason.
    "INCREMENTAL_FROM_LATEST_SNAPSHOT",
    # A scan of the whole current table (the result of every commit so far), then the appends after it.
    "TABLE_SCAN_THEN_INCREMENTAL",
)
DEFAULT_STARTING_STRATEGY: Final = "INCREMENTAL_FROM_LATEST_SNAPSHOT_EXCLUSIVE"

#: source.idle-timeout when the key is absent, local profile: twice the monitor interval. A reader of the
#: folder watcher (its watermark assigner, table.exec.source.idle-timeout) with no record for that long stops
#: holding the watermark back: a reader that got no split over two polls has nothing to read.
IDLE_TIMEOUT_MONITOR_INTERVALS: Final = 2
#: source.idle-timeout when the key is absent, msf profile: 5 minutes. After that long with nothing read (and
#: its output not back-pressured), the one Iceberg reader's watermark follows the clock, now - idle timeout
#: (unilake.flink.QuietWatermark, iceberg_stream.py): in a quiet period the newest windows close within
#: (idle timeout + window size + one checkpoint) of the last commit instead of waiting for the next one. The
#: producer contract it asks for: records committed within (idle timeout - monitor interval) of their event
#: time; one committed later into a quiet source is LATE (quarantined and counted, never dropped). Five
#: minutes leaves room for a writer committing every minute or two (an Iceberg Flink sink commits per
#: checkpoint) behind the 30 s default monitor interval (flink_app/README.md, "Quiet periods").
MSF_DEFAULT_IDLE_TIMEOUT_MS: Final = 300_000

#: Table names the catalog stacks create (defaults of the table keys).
DEFAULT_SOURCE_TABLE: Final = "transactions"
DEFAULT_SALES_TABLE: Final = "sales_per_minute"
DEFAULT_FRAUD_TABLE: Final = "fraud_alerts"
DEFAULT_QUARANTINE_TABLE: Final = "quarantine"

#: Monitor interval when the key is absent: 1 s locally (folder discovery), 30 s on Managed Flink (one Glue
#: GetTable per poll; polling faster than the writer's checkpoint interval buys no freshness).
DEFAULT_MONITOR_INTERVAL_MS: Final = {"local": 1_000, "msf": 30_000}

_DURATION_UNITS_MS: Final = {
    "ms": 1,
    "s": 1_000,
    "sec": 1_000,
    "min": 60_000,
    "h": 3_600_000,
}
_DURATION_RE: Final = re.compile(r"^\s*(\d+)\s*(ms|s|sec|min|h)\s*$")


class SettingsError(ValueError):
    """Bad application properties: the message names the group, the key and the reason.

    ``key`` and ``reason`` are set when one key's value is at fault, so a caller that set that key from a
    command-line flag can name the flag instead of the file.
    """

    def __init__(self, message: str, *, key: str | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.reason = reason


def _fail(key: str, reason: str) -> SettingsError:
    return SettingsError(f"group '{JOB_GROUP_ID}', key '{key}': {reason}", key=key, reason=reason)


def format_duration(millis: int) -> str:
    """Milliseconds in the shortest exact Flink/Iceberg duration syntax: ``1min``, ``30s``, ``250ms``."""
    for unit, size in (("h", 3_600_000), ("min", 60_000), ("s", 1_000)):
        if millis % size == 0:
            return f"{millis // size}{unit}"
    return f"{millis}ms"


@dataclass(frozen=True, kw_only=True)
class JobSettings:
    """Every setting of the job, typed and validated. Build it with :func:`parse_settings`."""

    profile: Profile
    mode: Mode = "streaming"
    catalog_name: str = "glue"
    warehouse: str | None = None
    database: str | None = None
    source_table: str = DEFAULT_SOURCE_TABLE
    source_monitor_interval_ms: int = DEFAULT_MONITOR_INTERVAL_MS["local"]
    source_starting_strategy: str = DEFAULT_STARTING_STRATEGY
    source_start_snapshot_id: int | None = None
    source_start_snapshot_timestamp_ms: int | None = None
    source_end_snapshot_id: int | None = None
    backfill_from_day: date | None = None
    backfill_to_day: date | None = None
    backfill_required: bool = False
    source_idle_timeout_ms: int = IDLE_TIMEOUT_MONITOR_INTERVALS * DEFAULT_MONITOR_INTERVAL_MS["local"]
    source_path: str | None = None
    sink_path: str | None = None
    sink_sales_table: str = DEFAULT_SALES_TABLE
    sink_fraud_table: str = DEFAULT_FRAUD_TABLE
    sink_quarantine_table: str = DEFAULT_QUARANTINE_TABLE
    window_size_ms: int = 60_000
    out_of_orderness_ms: int = 5_000
    velocity_min_transactions: int = 5
    multi_store_min_stores: int = 3
    high_value_min_amount: Decimal = Decimal("10000.00")
    checkpoint_interval_ms: int = 10_000
    checkpoint_timeout_ms: int = 120_000
    restart_attempts: int = 3
    restart_delay_ms: int = 5_000
    parallelism: int = 1
    #: Optional Iceberg catalog properties (see :data:`CATALOG_PROPERTY_KEYS`), as (property, value) pairs.
    catalog_properties: tuple[tuple[str, str], ...] = ()

    def to_property_map(self) -> dict[str, str]:
        """The settings as the ``PropertyMap`` of :data:`JOB_GROUP_ID` (strings; unset options omitted)."""
        values: dict[str, str | None] = {
            KEY_PROFILE: self.profile,
            KEY_MODE: self.mode,
            KEY_CATALOG_NAME: self.catalog_name,
            KEY_WAREHOUSE: self.warehouse,
            KEY_DATABASE: self.database,
            KEY_SOURCE_TABLE: self.source_table,
            KEY_SOURCE_MONITOR_INTERVAL: format_duration(self.source_monitor_interval_ms),
            KEY_SOURCE_STARTING_STRATEGY: self.source_starting_strategy,
            KEY_SOURCE_START_SNAPSHOT_ID: _opt_str(self.source_start_snapshot_id),
            KEY_SOURCE_START_SNAPSHOT_TIMESTAMP: _opt_str(self.source_start_snapshot_timestamp_ms),
            KEY_SOURCE_END_SNAPSHOT_ID: _opt_str(self.source_end_snapshot_id),
            KEY_BACKFILL_FROM_DAY: _opt_str(self.backfill_from_day),
            KEY_BACKFILL_TO_DAY: _opt_str(self.backfill_to_day),
            KEY_BACKFILL_REQUIRED: "true" if self.backfill_required else None,
            KEY_SOURCE_IDLE_TIMEOUT: format_duration(self.source_idle_timeout_ms),
            KEY_SOURCE_PATH: self.source_path,
            KEY_SINK_PATH: self.sink_path,
            KEY_SINK_SALES_TABLE: self.sink_sales_table,
            KEY_SINK_FRAUD_TABLE: self.sink_fraud_table,
            KEY_SINK_QUARANTINE_TABLE: self.sink_quarantine_table,
            KEY_WINDOW_SIZE: format_duration(self.window_size_ms),
            KEY_OUT_OF_ORDERNESS: format_duration(self.out_of_orderness_ms),
            KEY_VELOCITY_MIN_TRANSACTIONS: str(self.velocity_min_transactions),
            KEY_MULTI_STORE_MIN_STORES: str(self.multi_store_min_stores),
            KEY_HIGH_VALUE_MIN_AMOUNT: str(self.high_value_min_amount),
            KEY_CHECKPOINT_INTERVAL: format_duration(self.checkpoint_interval_ms),
            KEY_CHECKPOINT_TIMEOUT: format_duration(self.checkpoint_timeout_ms),
            KEY_RESTART_ATTEMPTS: str(self.restart_attempts),
            KEY_RESTART_DELAY: format_duration(self.restart_delay_ms),
            KEY_PARALLELISM: str(self.parallelism),
        }
        by_property = dict(self.catalog_properties)
        values.update({key: by_property.get(prop) for key, prop in CATALOG_PROPERTY_KEYS.items()})
        return {key: value for key, value in values.items() if value is not None}


def _opt_str(value: int | date | None) -> str | None:
    return None if value is None else str(value)


def to_property_groups(settings: Mapping[str, object]) -> list[dict[str, Any]]:
    """Turn a mapping of settings (keys of :data:`ALL_KEYS`) into the application-properties list.

    The mapping is validated with :func:`parse_settings` first, so the infrastructure cannot deploy a
    configuration the job would refuse. Values are rendered as strings, as Managed Flink stores them.
    """
    property_map = {key: _render(key, value) for key, value in settings.items()}
    groups: list[dict[str, Any]] = [{"PropertyGroupId": JOB_GROUP_ID, "PropertyMap": property_map}]
    parse_settings(groups)
    return groups


def run_options_group(*, jar_name: str = DEPENDENCY_JAR_NAME) -> dict[str, Any]:
    """The ``kinesis.analytics.flink.run.options`` group Managed Flink needs to start this PyFlink job."""
    return {
        "PropertyGroupId": RUN_OPTIONS_GROUP_ID,
        "PropertyMap": {RUN_OPTION_PYTHON: "main.py", RUN_OPTION_JARFILE: f"lib/{jar_name}"},
    }


def _render(key: str, value: object) -> str:
    if isinstance(value, bool):
        raise _fail(key, f"expected a string or a number, got a boolean ({value!r})")
    if isinstance(value, str | int | Decimal):
        return str(value)
    raise _fail(key, f"expected a string or a number, got {type(value).__name__}")


def parse_settings(groups: object) -> JobSettings:
    """Build :class:`JobSettings` from the application-properties list; :class:`SettingsError` if bad."""
    if not isinstance(groups, list):
        raise SettingsError(
            f"expected a list of {{'PropertyGroupId': ..., 'PropertyMap': {{...}}}} objects, "
            f"got {type(groups).__name__}"
        )
    found: dict[str, str] | None = None
    for index, group in enumerate(groups):
        if not isinstance(group, dict) or not isinstance(group.get("PropertyGroupId"), str):
            raise SettingsError(f"item {index}: expected an object with a string 'PropertyGroupId'")
        if group["PropertyGroupId"] != JOB_GROUP_ID:
            continue
        if found is not None:
            raise SettingsError(f"group '{JOB_GROUP_ID}' appears more than once")
        property_map = group.get("PropertyMap")
        if not isinstance(property_map, dict):
            raise SettingsError(f"group '{JOB_GROUP_ID}': 'PropertyMap' must be an object")
        for key, value in property_map.items():
            if key not in ALL_KEYS:
                raise _fail(str(key), f"unknown key (known keys: {', '.join(ALL_KEYS)})")
            if not isinstance(value, str):
                raise _fail(key, f"values must be strings, got {type(value).__name__}")
        found = dict(property_map)
    if found is None:
        raise SettingsError(f"group '{JOB_GROUP_ID}' is missing")
    return _settings_from_map(found)


def load_settings(path: str | Path, *, overrides: Mapping[str, str] | None = None) -> JobSettings:
    """Read an application-properties JSON file; ``overrides`` (e.g. from the command line) win over it.

    Errors are :class:`SettingsError` whose message starts with the file name.
    """
    file = Path(path)
    try:
        groups = json.loads(file.read_text(encoding="utf-8")) if file.exists() else None
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"{file}: cannot read: {error}") from None
    except json.JSONDecodeError as error:
        raise SettingsError(f"{file}: not valid JSON: {error}") from None
    if groups is None:
        if not overrides:
            raise SettingsError(f"{file}: file not found")
        groups = []
    if overrides and isinstance(groups, list):
        groups = _apply_overrides(groups, overrides)
    try:
        return parse_settings(groups)
    except SettingsError as error:
        if error.key is not None and overrides and error.key in overrides:
            raise  # the value is an override's, not the file's: the caller names where it came from
        source = str(file) if file.exists() else f"{file} (not found; settings from the command line only)"
        raise SettingsError(f"{source}: {error}", key=error.key, reason=error.reason) from None


def _apply_overrides(groups: list[Any], overrides: Mapping[str, str]) -> list[Any]:
    merged: list[Any] = []
    applied = False
    for group in groups:
        if isinstance(group, dict) and group.get("PropertyGroupId") == JOB_GROUP_ID and not applied:
            base = group.get("PropertyMap")
            property_map = {**base, **overrides} if isinstance(base, dict) else base
            merged.append({**group, "PropertyMap": property_map})
            applied = True
        else:
            merged.append(group)
    if not applied:
        merged.append({"PropertyGroupId": JOB_GROUP_ID, "PropertyMap": dict(overrides)})
    return merged


def _settings_from_map(values: Mapping[str, str]) -> JobSettings:
    profile = _choice(values, KEY_PROFILE, PROFILES, default=None)
    mode = _choice(values, KEY_MODE, MODES, default="streaming")
    monitor_interval_ms = _duration(values, KEY_SOURCE_MONITOR_INTERVAL, DEFAULT_MONITOR_INTERVAL_MS[profile])
    kwargs: dict[str, Any] = {
        "profile": profile,
        "mode": mode,
        "catalog_name": _identifier(values, KEY_CATALOG_NAME, "glue"),
        "warehouse": values.get(KEY_WAREHOUSE) or None,
        "database": _optional_identifier(values, KEY_DATABASE),
        "source_table": _identifier(values, KEY_SOURCE_TABLE, DEFAULT_SOURCE_TABLE),
        "source_monitor_interval_ms": monitor_interval_ms,
        "source_starting_strategy": _choice(
            values, KEY_SOURCE_STARTING_STRATEGY, STARTING_STRATEGIES, default=DEFAULT_STARTING_STRATEGY
        ),
        "source_start_snapshot_id": _optional_int(values, KEY_SOURCE_START_SNAPSHOT_ID),
        "source_start_snapshot_timestamp_ms": _optional_int(values, KEY_SOURCE_START_SNAPSHOT_TIMESTAMP),
        "source_end_snapshot_id": _optional_int(values, KEY_SOURCE_END_SNAPSHOT_ID),
        "backfill_from_day": _optional_day(values, KEY_BACKFILL_FROM_DAY),
        "backfill_to_day": _optional_day(values, KEY_BACKFILL_TO_DAY),
        "backfill_required": _choice(values, KEY_BACKFILL_REQUIRED, ("true", "false"), default="false") == "true",
        "source_idle_timeout_ms": _duration(
            values,
            KEY_SOURCE_IDLE_TIMEOUT,
            MSF_DEFAULT_IDLE_TIMEOUT_MS if profile == "msf" else IDLE_TIMEOUT_MONITOR_INTERVALS * monitor_interval_ms,
            minimum=0,
        ),
        "source_path": values.get(KEY_SOURCE_PATH) or None,
        "sink_path": values.get(KEY_SINK_PATH) or None,
        "sink_sales_table": _identifier(values, KEY_SINK_SALES_TABLE, DEFAULT_SALES_TABLE),
        "sink_fraud_table": _identifier(values, KEY_SINK_FRAUD_TABLE, DEFAULT_FRAUD_TABLE),
        "sink_quarantine_table": _identifier(values, KEY_SINK_QUARANTINE_TABLE, DEFAULT_QUARANTINE_TABLE),
        "window_size_ms": _duration(values, KEY_WINDOW_SIZE, 60_000, whole_seconds=True),
        "out_of_orderness_ms": _duration(values, KEY_OUT_OF_ORDERNESS, 5_000, minimum=0),
        "velocity_min_transactions": _int(values, KEY_VELOCITY_MIN_TRANSACTIONS, 5, minimum=1),
        "multi_store_min_stores": _int(values, KEY_MULTI_STORE_MIN_STORES, 3, minimum=1),
        "high_value_min_amount": _amount(values, KEY_HIGH_VALUE_MIN_AMOUNT, Decimal("10000.00")),
        "checkpoint_interval_ms": _duration(values, KEY_CHECKPOINT_INTERVAL, 10_000, minimum=100),
        "checkpoint_timeout_ms": _duration(values, KEY_CHECKPOINT_TIMEOUT, 120_000, minimum=1_000),
        "restart_attempts": _int(values, KEY_RESTART_ATTEMPTS, 3, minimum=0),
        "restart_delay_ms": _duration(values, KEY_RESTART_DELAY, 5_000, minimum=0),
        "parallelism": _int(values, KEY_PARALLELISM, 1, minimum=1),
        "catalog_properties": _catalog_properties(values),
    }
    settings = JobSettings(**kwargs)
    _check_profile(settings)
    return settings


def _check_profile(settings: JobSettings) -> None:
    if settings.profile == "msf":
        if not settings.warehouse:
            raise _fail(KEY_WAREHOUSE, "required for profile 'msf'")
        if not settings.warehouse.startswith("s3://"):
            raise _fail(KEY_WAREHOUSE, f"must be an s3:// URI (got {settings.warehouse!r})")
        if not settings.database:
            raise _fail(KEY_DATABASE, "required for profile 'msf'")
        strategy = settings.source_starting_strategy
        if settings.mode == "streaming":
            if 0 < settings.source_idle_timeout_ms <= settings.source_monitor_interval_ms:
                raise _fail(
                    KEY_SOURCE_IDLE_TIMEOUT,
                    f"must be longer than {KEY_SOURCE_MONITOR_INTERVAL} "
                    f"({format_duration(settings.source_monitor_interval_ms)}), or 0ms for never: a commit is read "
                    "up to one monitor interval after it lands, and a quiet source's watermark that follows the "
                    "clock by less would pass records still to come "
                    f"(got {format_duration(settings.source_idle_timeout_ms)})",
                )
            if settings.source_end_snapshot_id is not None:
                raise _fail(KEY_SOURCE_END_SNAPSHOT_ID, "only allowed in batch mode")
            if strategy in _REFUSED_STRATEGIES:
                raise _fail(KEY_SOURCE_STARTING_STRATEGY, _REFUSED_STRATEGIES[strategy])
            if (strategy == AFTER_SNAPSHOT_STRATEGY) != (settings.source_start_snapshot_id is not None):
                raise _fail(
                    KEY_SOURCE_START_SNAPSHOT_ID,
                    f"required with starting strategy {AFTER_SNAPSHOT_STRATEGY} (the stream starts after that "
                    "snapshot), and only with it",
                )
            if (strategy == "INCREMENTAL_FROM_SNAPSHOT_TIMESTAMP") != (
                settings.source_start_snapshot_timestamp_ms is not None
            ):
                raise _fail(
                    KEY_SOURCE_START_SNAPSHOT_TIMESTAMP,
                    "required with starting strategy INCREMENTAL_FROM_SNAPSHOT_TIMESTAMP, and only with it",
                )
        elif settings.source_start_snapshot_timestamp_ms is not None:
            raise _fail(KEY_SOURCE_START_SNAPSHOT_TIMESTAMP, "only allowed in streaming mode")
    else:
        for key, value in (
            (KEY_SOURCE_START_SNAPSHOT_ID, settings.source_start_snapshot_id),
            (KEY_SOURCE_START_SNAPSHOT_TIMESTAMP, settings.source_start_snapshot_timestamp_ms),
            (KEY_SOURCE_END_SNAPSHOT_ID, settings.source_end_snapshot_id),
        ):
            if value is not None:
                raise _fail(key, "only allowed with profile 'msf'")
        if settings.catalog_properties:
            prop = settings.catalog_properties[0][0]
            key = next(k for k, p in CATALOG_PROPERTY_KEYS.items() if p == prop)
            raise _fail(key, "only allowed with profile 'msf'")
        if not settings.source_path:
            raise _fail(KEY_SOURCE_PATH, "required for profile 'local' (or pass --input)")
        if not settings.sink_path:
            raise _fail(KEY_SINK_PATH, "required for profile 'local' (or pass --output)")
    if settings.checkpoint_timeout_ms < settings.checkpoint_interval_ms:
        raise _fail(KEY_CHECKPOINT_TIMEOUT, "must not be shorter than checkpoint.interval")
    _check_backfill(settings)


#: Milliseconds in a UTC day: a window must divide it so that no window straddles two days.
DAY_MS: Final = 86_400_000


def _check_backfill(settings: JobSettings) -> None:
    """A day backfill: both days or neither, in order, msf batch only, whole windows per day, and a read of
    every record of those days (no lower snapshot bound: replacing a day needs all of its records)."""
    first, last = settings.backfill_from_day, settings.backfill_to_day
    if first is None and last is None:
        if settings.backfill_required:
            raise _fail(
                KEY_BACKFILL_FROM_DAY,
                f"required: this application only runs day backfills ({KEY_BACKFILL_REQUIRED} is true); "
                "start it with `python -m ops backfill`, which sets the days",
            )
        return
    if first is None or last is None:
        missing = KEY_BACKFILL_FROM_DAY if first is None else KEY_BACKFILL_TO_DAY
        raise _fail(missing, f"required with {KEY_BACKFILL_TO_DAY if first is None else KEY_BACKFILL_FROM_DAY}")
    if last < first:
        raise _fail(KEY_BACKFILL_TO_DAY, f"must not be before {KEY_BACKFILL_FROM_DAY} ({last} < {first})")
    if settings.profile != "msf" or settings.mode != "batch":
        raise _fail(KEY_BACKFILL_FROM_DAY, "a backfill runs with profile 'msf' in batch mode only")
    if settings.source_start_snapshot_id is not None:
        raise _fail(
            KEY_SOURCE_START_SNAPSHOT_ID,
            "not allowed in a day backfill: replacing a day needs every record of it, not only those after a "
            f"snapshot (set {KEY_SOURCE_END_SNAPSHOT_ID} to read up to and including a snapshot)",
        )
    if DAY_MS % settings.window_size_ms:
        raise _fail(KEY_WINDOW_SIZE, "must divide a day for a backfill (no window may straddle midnight)")


#: Starting strategies the job refuses in streaming, with the reason. Both are Iceberg's inclusive starts.
_REFUSED_STRATEGIES: Final = {
    "INCREMENTAL_FROM_LATEST_SNAPSHOT": (
        "reads the latest snapshot again (inclusive), so a start without state counts its records twice; "
        "use INCREMENTAL_FROM_LATEST_SNAPSHOT_EXCLUSIVE (the default)"
    ),
    ICEBERG_FROM_SNAPSHOT_STRATEGY: (
        f"Iceberg's start at {KEY_SOURCE_START_SNAPSHOT_ID} is inclusive (it reads that snapshot itself), while "
        f"{KEY_SOURCE_START_SNAPSHOT_ID} means 'after this snapshot' everywhere else; use {AFTER_SNAPSHOT_STRATEGY} "
        f"with {KEY_SOURCE_START_SNAPSHOT_ID} = the last snapshot already counted"
    ),
}


_ENDPOINT_RE: Final = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+(:\d+)?/?$")
_REGION_RE: Final = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


def _catalog_properties(values: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The optional Iceberg catalog properties that are set, validated, in :data:`CATALOG_PROPERTY_KEYS` order."""
    found: list[tuple[str, str]] = []
    for key, prop in CATALOG_PROPERTY_KEYS.items():
        value = values.get(key)
        if value is None or value == "":
            continue
        if key in (KEY_CATALOG_GLUE_ENDPOINT, KEY_CATALOG_S3_ENDPOINT) and not _ENDPOINT_RE.match(value):
            raise _fail(key, f"expected an http(s) endpoint such as 'http://127.0.0.1:5000' (got {value!r})")
        if key == KEY_CATALOG_S3_PATH_STYLE_ACCESS and value not in ("true", "false"):
            raise _fail(key, f"must be 'true' or 'false' (got {value!r})")
        if key == KEY_CATALOG_CLIENT_REGION and not _REGION_RE.match(value):
            raise _fail(key, f"expected an AWS region such as 'eu-west-1' (got {value!r})")
        found.append((prop, value))
    return tuple(found)


def _choice(values: Mapping[str, str], key: str, allowed: Sequence[str], *, default: str | None) -> Any:
    value = values.get(key)
    if value is None or value == "":
        if default is None:
            raise _fail(key, f"required, one of {', '.join(repr(a) for a in allowed)}")
        return default
    if value not in allowed:
        raise _fail(key, f"must be one of {', '.join(repr(a) for a in allowed)} (got {value!r})")
    return value


_IDENTIFIER_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _identifier(values: Mapping[str, str], key: str, default: str) -> str:
    value = values.get(key) or default
    if not _IDENTIFIER_RE.match(value):
        raise _fail(key, f"must be a plain identifier (letters, digits, underscore), got {value!r}")
    return value


def _optional_identifier(values: Mapping[str, str], key: str) -> str | None:
    return _identifier(values, key, "") if values.get(key) else None


def _duration(
    values: Mapping[str, str],
    key: str,
    default: int,
    *,
    minimum: int = 1,
    whole_seconds: bool = False,
) -> int:
    raw = values.get(key)
    if raw is None or raw == "":
        return default
    match = _DURATION_RE.match(raw)
    if not match:
        raise _fail(key, f"expected a duration such as '500ms', '5s', '1min' or '1h' (got {raw!r})")
    millis = int(match.group(1)) * _DURATION_UNITS_MS[match.group(2)]
    if millis < minimum:
        raise _fail(key, f"must be at least {format_duration(minimum) if minimum else '0ms'} (got {raw!r})")
    if whole_seconds and millis % 1_000:
        raise _fail(key, f"must be a whole number of seconds (got {raw!r})")
    return millis


def _int(values: Mapping[str, str], key: str, default: int, *, minimum: int) -> int:
    raw = values.get(key)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"-?\d+", raw.strip()):
        raise _fail(key, f"expected an integer (got {raw!r})")
    value = int(raw)
    if value < minimum:
        raise _fail(key, f"must be at least {minimum} (got {value})")
    return value


def _optional_day(values: Mapping[str, str], key: str) -> date | None:
    raw = values.get(key)
    if raw is None or raw == "":
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw.strip()):
            raise ValueError
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise _fail(key, f"expected a UTC day as YYYY-MM-DD (got {raw!r})") from None


def _optional_int(values: Mapping[str, str], key: str) -> int | None:
    raw = values.get(key)
    if raw is None or raw == "":
        return None
    if not re.fullmatch(r"-?\d+", raw.strip()):
        raise _fail(key, f"expected an integer snapshot id (got {raw!r})")
    return int(raw)


def _amount(values: Mapping[str, str], key: str, default: Decimal) -> Decimal:
    raw = values.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise _fail(key, f"expected a decimal amount such as '10000.00' (got {raw!r})") from None
    if not value.is_finite() or value < 0 or value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise _fail(key, f"must be a non-negative amount with at most two decimals (got {raw!r})")
    return value.quantize(Decimal("0.01"))
