"""The job as SQL text: profile DDL (local | msf) and the pipeline written once. Pure Python (no pyflink).

:func:`build_plan` returns every statement the job executes, so the DDL of each profile can be read and tested
without a cluster. Only the source tables, the received, malformed and rejected views, the read hint and the
sink names differ by profile; the pipeline views and the three INSERTs are the same text for both. The one
difference by mode is the ``LATE`` rule, which only exists in streaming (a batch run has no watermark, so
nothing is late).

Pipeline (all Flink SQL built-ins, no Python UDF on the per-record path):

1. ``unilake_received`` (by profile): the fields of each record as received, ``qty`` and ``price`` parsed
   (NULL where invalid), ``valid_event_time``, and ``rowtime``, the event time of a record whose
   ``event_time`` is valid, 1970-01-01 otherwise: never null, so a bad record can neither kill the job nor
   move the watermark. The local profile reads each JSON line once into string columns (JSON
   format) and parses them with ``REGEXP``/``TRY_CAST``; a second table reads the same files as raw lines to
   quarantine the lines that are not JSON objects (``unilake_malformed``). The msf profile's typed columns
   are their own parsed values (an Iceberg column cannot hold an invalid one); it has no malformed lines.
2. ``unilake_classified``: the first quarantine reason that applies, or NULL for a valid record;
   ``unilake_rejected`` (by profile) keeps the records with a reason, their fields as text for quarantine (the
   msf profile renders its typed values there, so valid records are never rendered).
3. ``unilake_transactions_once``: valid records deduplicated per 1-minute window and ``transaction_id`` (exact
   replays share their window), as a window aggregation: bounded state, append-only output.
4. Aggregations on its windows (no second ``TUMBLE``) give ``sales_per_minute`` and the card windows of
   ``fraud_alerts`` (per card and store, then per card on the same windows: distinct stores without a
   DISTINCT aggregate, which would double the rows to aggregate).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Final

from . import metric_names, schemas
from .properties import (
    DEFAULT_FRAUD_TABLE,
    DEFAULT_QUARANTINE_TABLE,
    DEFAULT_SALES_TABLE,
    JobSettings,
    format_duration,
)

SOURCE_TABLE: Final = "unilake_source"
RECEIVED_VIEW: Final = "unilake_received"
CLASSIFIED_VIEW: Final = "unilake_classified"
VALID_VIEW: Final = "unilake_valid"
ONCE_VIEW: Final = "unilake_transactions_once"
CARD_STORE_WINDOWS_VIEW: Final = "unilake_card_store_windows"
#: Local only: the input lines that are not JSON objects (msf: an empty view).
LINES_TABLE: Final = "unilake_source_lines"
MALFORMED_VIEW: Final = "unilake_malformed"
#: The records with a quarantine reason, their fields as text (msf: typed values rendered).
REJECTED_VIEW: Final = "unilake_rejected"
CARD_WINDOWS_VIEW: Final = "unilake_card_windows"
#: The fields of a transaction as received, as a SQL column list.
RECEIVED_COLUMNS: Final = ", ".join(f"`{name}`" for name in schemas.RECEIVED_FIELDS)

#: Output folder (local) / logical name of each sink: the catalog names of the sink tables.
OUTPUT_TABLES: Final = (DEFAULT_SALES_TABLE, DEFAULT_FRAUD_TABLE, DEFAULT_QUARANTINE_TABLE)
#: Local streaming only: lines read per input file, so the driver stops only once every file is read.
PROGRESS_TABLE: Final = "_progress"
PROGRESS_COLUMNS: Final[schemas.Columns] = (("file_path", "STRING"), ("lines", "BIGINT"))

ICEBERG_CATALOG_IMPL: Final = "org.apache.iceberg.aws.glue.GlueCatalog"
ICEBERG_IO_IMPL: Final = "org.apache.iceberg.aws.s3.S3FileIO"

#: ISO-8601 in UTC with a 'Z', optional fraction: 2026-11-25T10:00:01.123Z
#: Months 01-12, days 01-31, hours 00-23, minutes and seconds 00-59 (days past a month's end: iso_utc_valid).
ISO_UTC_REGEX: Final = (
    "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,9})?Z$"
)
#: An integer (CAST alone is lenient: it turns '2.5' into 2).
QUANTITY_REGEX: Final = "^[+-]?[0-9]+$"
#: A non-negative or negative number with at most two decimals (negatives are rejected by the < 0 test).
PRICE_REGEX: Final = "^-?[0-9]+([.][0-9]{1,2})?$"
EPOCH: Final = "TIMESTAMP '1970-01-01 00:00:00'"


@dataclass(frozen=True, kw_only=True)
class PipelinePlan:
    """Everything the job executes: the ``setup`` statements, then the ``inserts`` as one statement set."""

    setup: tuple[str, ...]
    inserts: tuple[str, ...]
    #: Tables of the Iceberg catalog that must exist before the job starts (msf only), as (database, table).
    required_tables: tuple[tuple[str, str], ...] = ()
    #: The msf streaming source, registered as the view ``SOURCE_TABLE`` after the catalog statements and
    #: the catalog check, before the other statements (job.prepare, iceberg_stream.register).
    stream_source: StreamSource | None = None


@dataclass(frozen=True, kw_only=True)
class StreamSource:
    """The Iceberg table the msf profile streams, with what the DataStream API needs to read it
    (iceberg_stream.py): one reader, whatever the job's parallelism, which SQL cannot express."""

    catalog_name: str
    catalog_impl: str
    catalog_properties: dict[str, str]
    database: str
    table: str
    #: FlinkReadOptions for IcebergSource.Builder.setAll: the read options of msf_read_options plus the split
    #: watermark options of SPLIT_WATERMARK_OPTIONS.
    read_options: dict[str, str]
    #: The ``rowtime`` column, computed from the table's columns.
    rowtime: str
    #: source.idle-timeout: quiet for this long, the watermark follows the clock this far behind (0: never).
    idle_timeout_ms: int
    #: How often the table is polled for new snapshots, and for snapshots the source skips.
    monitor_interval_ms: int


def sql_string(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def options_clause(options: dict[str, str]) -> str:
    return ",\n  ".join(f"{sql_string(k)} = {sql_string(v)}" for k, v in options.items())


def _interval(millis: int) -> str:
    if millis % 1000 == 0:
        return f"INTERVAL '{millis // 1000}' SECOND"
    return f"INTERVAL '{millis / 1000:.3f}' SECOND(9, 3)"


def iso_utc_valid(column: str) -> str:
    """TRUE if the string ``column`` is an ISO-8601 UTC time that exists (no 2026-02-30), FALSE otherwise.

    String tests only, so that the casts in :func:`rowtime_expr` never meet an impossible date (CAST is
    lenient: 2026-02-30 becomes March 2). Flink 1.20 inlines an expression at each place a view
    column is used and does not share repeated sub-expressions, so this takes a column, never an expression.
    """
    day, month = f"SUBSTRING({column} FROM 9 FOR 2)", f"SUBSTRING({column} FROM 6 FOR 2)"
    year = f"CAST(SUBSTRING({column} FROM 1 FOR 4) AS INT)"
    leap = f"MOD({year}, 4) = 0 AND (MOD({year}, 100) <> 0 OR MOD({year}, 400) = 0)"
    fits_month = (
        f"CASE WHEN {month} IN ('04', '06', '09', '11') THEN {day} <= '30' "
        f"WHEN {month} = '02' THEN {day} = '29' AND {leap} ELSE TRUE END"
    )
    return f"COALESCE(REGEXP({column}, {sql_string(ISO_UTC_REGEX)}) AND ({day} <= '28' OR {fits_month}), FALSE)"


def rowtime_expr(column: str) -> str:
    """Never-null rowtime: the valid event time, or the epoch (behind any watermark, never advances it)."""
    return f"COALESCE(CASE WHEN {iso_utc_valid(column)} THEN {_utc_timestamp(column)} END, {EPOCH})"


def _utc_timestamp(column: str) -> str:
    """The TIMESTAMP(3) of a string that :func:`iso_utc_valid` accepted (fraction truncated to milliseconds).

    Built from its parts: the date by ``CAST AS DATE`` (Flink's own date parser), the time of day as
    milliseconds. Casting the whole string to TIMESTAMP goes through a java.time formatter with optional
    sections, which took about a quarter of the local source task's time (bench/pipeline_bench.py).
    """

    def part(start: int, length: int) -> str:
        return f"SUBSTRING({column} FROM {start} FOR {length})"

    seconds = f"CAST({part(12, 2)} AS INT) * 3600 + CAST({part(15, 2)} AS INT) * 60 + CAST({part(18, 2)} AS INT)"
    # After 'YYYY-MM-DDTHH:MM:SS' comes 'Z' or '.' and 1-9 digits, then 'Z': keep 3 digits, pad to 3.
    fraction = f"CAST(RPAD(REPLACE({part(21, 3)}, 'Z', ''), 3, '0') AS INT)"
    millis = f"({seconds}) * 1000 + CASE WHEN CHAR_LENGTH({column}) > 20 THEN {fraction} ELSE 0 END"
    return f"CAST(CAST({part(1, 10)} AS DATE) AS TIMESTAMP(3)) + ({millis}) * INTERVAL '0.001' SECOND"


# --- catalog and source (profile-specific) ------------------------------------------------------------------


def catalog_options(settings: JobSettings) -> dict[str, str]:
    """Options of the Iceberg catalog on the Glue Data Catalog (Iceberg flink-configuration.md, aws.md)."""
    assert settings.warehouse is not None
    return {
        "type": "iceberg",
        "catalog-impl": ICEBERG_CATALOG_IMPL,
        "io-impl": ICEBERG_IO_IMPL,
        "warehouse": settings.warehouse,
        # Glue keeps no archived table version per commit (one commit per checkpoint per table).
        "glue.skip-archive": "true",
        # Optional endpoints, path-style access and region (none by default: absent on Managed Flink).
        **dict(settings.catalog_properties),
    }


def catalog_ddl(settings: JobSettings) -> str:
    return f"CREATE CATALOG `{settings.catalog_name}` WITH (\n  {options_clause(catalog_options(settings))}\n)"


def msf_read_options(settings: JobSettings) -> dict[str, str]:
    """Read options passed as the ``/*+ OPTIONS(...) */`` hint (FlinkReadOptions; flink-queries.md).

    Streaming: incremental reads of new APPEND snapshots, polled every ``monitor-interval``, from the
    explicit starting position of the settings (properties.STARTING_STRATEGIES). A start after a snapshot
    (``INCREMENTAL_AFTER_SNAPSHOT_ID``) is the job's own and is rendered as is until ``job.resolve_start``
    has replaced it with Iceberg's strategy through the catalog: Iceberg refuses the name (it is no
    ``StreamingStartingStrategy``), so an unresolved plan can never start at the wrong snapshot. Batch: a
    bounded read of the current snapshot, or of the appends after ``start-snapshot-id`` (exclusive) up to
    ``end-snapshot-id`` (inclusive) for a backfill.
    """
    if settings.mode == "streaming":
        options = {
            "streaming": "true",
            "monitor-interval": format_duration(settings.source_monitor_interval_ms),
            "starting-strategy": settings.source_starting_strategy,
        }
        if settings.source_start_snapshot_id is not None:
            options["start-snapshot-id"] = str(settings.source_start_snapshot_id)
        if settings.source_start_snapshot_timestamp_ms is not None:
            options["start-snapshot-timestamp"] = str(settings.source_start_snapshot_timestamp_ms)
        return options
    options = {"streaming": "false"}
    if is_backfill(settings):
        # Every record of the days, as of the snapshot the range ends with (time travel) or the current one.
        if settings.source_end_snapshot_id is not None:
            options["snapshot-id"] = str(settings.source_end_snapshot_id)
        return options
    if settings.source_start_snapshot_id is not None:
        options["start-snapshot-id"] = str(settings.source_start_snapshot_id)
    if settings.source_end_snapshot_id is not None:
        options["end-snapshot-id"] = str(settings.source_end_snapshot_id)
    return options


#: The column whose file statistics (lower bounds) give each split its watermark.
WATERMARK_COLUMN: Final = "event_time"
#: ``split-file-open-cost`` of the streaming source: as large as the default split size (128 MB), so every
#: data file is a split of its own with its own watermark, never combined with files of other time ranges
#: (flink-queries.md "Emitting watermarks" recommends a large value; TestIcebergSourceSql uses 128000000).
SPLIT_FILE_OPEN_COST: Final = str(128 * 1024 * 1024)


#: Read options the streaming source adds to :func:`msf_read_options` (iceberg_stream.py): split watermarks
#: (``watermark-column``): each split emits, before its first record, the minimum ``event_time`` of its files
#: from their column statistics (ColumnStatsWatermarkExtractor), never lower than the reader's previous one
#: (WatermarkExtractorRecordEmitter), and splits are assigned in that order (OrderedSplitAssignerFactory).
#: Batch reads have no watermark.
SPLIT_WATERMARK_OPTIONS: Final = MappingProxyType(
    {"watermark-column": WATERMARK_COLUMN, "split-file-open-cost": SPLIT_FILE_OPEN_COST}
)


def _create_table(name: str, columns: tuple[str, ...], options: dict[str, str]) -> str:
    return (
        f"CREATE TEMPORARY TABLE `{name}` (\n  " + ",\n  ".join(columns) + f"\n) WITH (\n  {options_clause(options)}\n)"
    )


def _rowtime_columns(rowtime: str, settings: JobSettings) -> tuple[str, str]:
    """The ``rowtime`` computed column and its watermark, for a source table."""
    return (
        f"`rowtime` AS {rowtime}",
        f"WATERMARK FOR `rowtime` AS `rowtime` - {_interval(settings.out_of_orderness_ms)}",
    )


#: The msf source's ``rowtime``: the typed ``event_time`` in milliseconds, the epoch where it is null (those
#: records are quarantined as BAD_EVENT_TIME, but a rowtime must never be null).
MSF_ROWTIME: Final = f"COALESCE(CAST(`event_time` AS TIMESTAMP(3)), {EPOCH})"


def msf_stream_source(settings: JobSettings) -> StreamSource:
    """The msf streaming source: the catalog table read incrementally with split watermarks
    (:func:`msf_read_options`, :data:`SPLIT_WATERMARK_OPTIONS`), read by one reader (iceberg_stream.py)."""
    assert settings.database is not None
    assert settings.mode == "streaming"
    options = catalog_options(settings)
    return StreamSource(
        catalog_name=settings.catalog_name,
        catalog_impl=options["catalog-impl"],
        catalog_properties=options,
        database=settings.database,
        table=settings.source_table,
        read_options={**msf_read_options(settings), **SPLIT_WATERMARK_OPTIONS},
        rowtime=MSF_ROWTIME,
        idle_timeout_ms=settings.source_idle_timeout_ms,
        monitor_interval_ms=settings.source_monitor_interval_ms,
    )


def msf_source_ddl(settings: JobSettings, *, connector_options: dict[str, str] | None = None) -> str:
    """The source: ``LIKE`` the catalog table (its columns, whatever the allowed schema evolution made of
    them), plus the never-null rowtime and its watermark.

    Batch: a bounded watermark, which a bounded run ignores. Streaming reads the Iceberg table through
    :func:`msf_stream_source` (iceberg_stream.py), not through this table. ``connector_options`` (tests,
    benchmark) reads the same columns from local files instead, spelled out, with the bounded watermark (the
    filesystem connector has no source watermark), in either mode.
    """
    rowtime = f"`rowtime` AS {MSF_ROWTIME}"
    if connector_options is not None:
        columns = schemas.column_definitions(schemas.TRANSACTIONS)
        columns += _rowtime_columns(MSF_ROWTIME, settings)
        return _create_table(SOURCE_TABLE, columns, connector_options)
    assert settings.database is not None
    if settings.mode == "streaming":
        raise ValueError("a streaming run reads the Iceberg table through msf_stream_source (iceberg_stream.py)")
    watermark = _rowtime_columns(rowtime, settings)[1]
    catalog_table = f"`{settings.catalog_name}`.`{settings.database}`.`{settings.source_table}`"
    return f"CREATE TEMPORARY TABLE `{SOURCE_TABLE}` (\n  {rowtime},\n  {watermark}\n)\nLIKE {catalog_table}"


#: The types ``qty`` and ``price`` take in the msf plan, the widest the source's allowed schema evolution can
#: make ``quantity`` (int -> long) and ``unit_price`` (decimal(10,2) -> decimal(P,2), P up to 38): the job's
#: state (the deduplication's MIN(quantity), the windows' sums) keeps its types when the source evolves, so a
#: restore from a snapshot taken before the change maps its state (without the casts: StateMigrationException,
#: tests/flink_app/test_msf_event_time.py).
MSF_QUANTITY_TYPE: Final = "BIGINT"
MSF_PRICE_TYPE: Final = "DECIMAL(38, 2)"


def msf_received_view(settings: JobSettings, *, streaming_source_view: bool = False) -> str:
    """The typed columns as read (the hint chooses streaming or a bounded read) and their parsed values: a value
    an Iceberg column holds is valid for its type, so ``qty``, ``price`` and ``valid_event_time`` need no
    parsing, only a cast to the types that survive schema evolution (:data:`MSF_QUANTITY_TYPE`). Rendering as
    text is left to :func:`msf_rejected_view`, which only the quarantined records reach."""
    if streaming_source_view:
        read = ""  # the view of msf_stream_source: its read options are the source's own
    else:
        read = " /*+ OPTIONS(" + options_clause(msf_read_options(settings)).replace(",\n  ", ", ") + ") */"
    return (
        f"CREATE TEMPORARY VIEW `{RECEIVED_VIEW}` AS\n"
        f"SELECT {RECEIVED_COLUMNS}, `rowtime`,\n"
        f"  `event_time` IS NOT NULL AS `valid_event_time`, CAST(`quantity` AS {MSF_QUANTITY_TYPE}) AS `qty`,\n"
        f"  CAST(`unit_price` AS {MSF_PRICE_TYPE}) AS `price`\n"
        f"FROM `{SOURCE_TABLE}`{read}" + backfill_filter(settings)
    )


def is_backfill(settings: JobSettings) -> bool:
    return settings.backfill_from_day is not None


def backfill_filter(settings: JobSettings) -> str:
    """A backfill reads whole UTC event-time days: a range on the typed ``event_time``, which Flink pushes into
    the Iceberg source, where it prunes the source's ``day(event_time)`` partitions. Records without an event
    time belong to no day: no backfill reads them (the stream quarantines them)."""
    if settings.backfill_from_day is None or settings.backfill_to_day is None:
        return ""
    end = settings.backfill_to_day + timedelta(days=1)
    return (
        f"\nWHERE `event_time` >= TIMESTAMP '{settings.backfill_from_day.isoformat()} 00:00:00'"
        f" AND `event_time` < TIMESTAMP '{end.isoformat()} 00:00:00'"
    )


def msf_rejected_view() -> str:
    """The rejected records with their typed values as the text a producer would have sent (ISO-8601 UTC
    event time), for quarantine."""
    return _rejected_view(
        {
            "quantity": "CAST(`quantity` AS STRING)",
            "unit_price": "CAST(`unit_price` AS STRING)",
            "event_time": "CONCAT(REPLACE(CAST(`event_time` AS STRING), ' ', 'T'), 'Z')",
        }
    )


def msf_malformed_view() -> str:
    """No malformed records: an Iceberg table holds typed rows. An empty view, pruned by the planner, keeps the
    quarantine INSERT the same text for both profiles."""
    return (
        f"CREATE TEMPORARY VIEW `{MALFORMED_VIEW}` AS\n"
        "SELECT `raw_line` FROM (VALUES (CAST(NULL AS STRING))) AS `none` (`raw_line`) WHERE FALSE"
    )


def _local_folder_options(settings: JobSettings, file_format: dict[str, str]) -> dict[str, str]:
    assert settings.source_path is not None
    options = {
        "connector": "filesystem",
        "path": Path(settings.source_path).resolve().as_uri(),
        **file_format,
    }
    if settings.mode == "streaming":
        # Watch the folder: the local analogue of polling new Iceberg snapshots.
        options["source.monitor-interval"] = format_duration(settings.source_monitor_interval_ms)
    return options


def local_source_options(settings: JobSettings) -> dict[str, str]:
    """The records: each line parsed once by the JSON format into string columns. A line that is not a JSON
    object gives no record here (``ignore-parse-errors``); the lines table quarantines it as MALFORMED."""
    return _local_folder_options(settings, {"format": "json", "json.ignore-parse-errors": "true"})


def local_lines_options(settings: JobSettings) -> dict[str, str]:
    """The same files as raw lines: only to find the lines that are not JSON objects and keep them as read."""
    return _local_folder_options(settings, {"format": "raw"})


def _progress_columns(settings: JobSettings) -> tuple[str, ...]:
    """Streaming: file path and processing time, for the progress table (see :func:`progress_insert`)."""
    if settings.mode != "streaming":
        return ()
    return ("`file_path` STRING NOT NULL METADATA FROM 'file.path' VIRTUAL", "`proc` AS PROCTIME()")


def local_source_ddl(settings: JobSettings) -> str:
    """The fields of each JSON line as strings (values may arrive as numbers or strings; TRY_CAST classifies
    them), never-null rowtime and watermark."""
    fields = schemas.column_definitions(tuple((name, "STRING") for name in schemas.RECEIVED_FIELDS))
    columns = fields + _progress_columns(settings) + _rowtime_columns(rowtime_expr("`event_time`"), settings)
    return _create_table(SOURCE_TABLE, columns, local_source_options(settings))


def local_lines_ddl(settings: JobSettings) -> str:
    columns = ("`line` STRING", *_progress_columns(settings))
    return _create_table(LINES_TABLE, columns, local_lines_options(settings))


def local_received_view() -> str:
    """The records with ``qty`` and ``price`` parsed (NULL where the string is not valid) and whether the
    ``event_time`` string is valid (``rowtime`` holds its value)."""
    return (
        f"CREATE TEMPORARY VIEW `{RECEIVED_VIEW}` AS\n"
        f"SELECT {RECEIVED_COLUMNS}, `rowtime`,\n"
        f"  {iso_utc_valid('`event_time`')} AS `valid_event_time`,\n"
        f"  CASE WHEN REGEXP(`quantity`, {sql_string(QUANTITY_REGEX)})\n"
        "    THEN TRY_CAST(`quantity` AS INT) END AS `qty`,\n"
        f"  CASE WHEN REGEXP(`unit_price`, {sql_string(PRICE_REGEX)})\n"
        "    THEN TRY_CAST(`unit_price` AS DECIMAL(10, 2)) END AS `price`\n"
        f"FROM `{SOURCE_TABLE}`"
    )


def local_rejected_view() -> str:
    """The rejected records with their fields as read (already text), for quarantine."""
    return _rejected_view({})


def _rejected_view(rendered: dict[str, str]) -> str:
    """The records with a quarantine reason, each field as text: ``rendered`` expressions, or the field as is.

    Per profile, and apart from the pipeline's classification, so that rendering typed values as text costs
    nothing for the valid records (Flink computes a view's columns for every row that reaches it).
    """
    fields = ",\n  ".join(
        f"{rendered[name]} AS `{name}`" if name in rendered else f"`{name}`" for name in schemas.RECEIVED_FIELDS
    )
    return (
        f"CREATE TEMPORARY VIEW `{REJECTED_VIEW}` AS\n"
        f"SELECT `reason`,\n  {fields}\n"
        f"FROM `{CLASSIFIED_VIEW}`\n"
        "WHERE `reason` IS NOT NULL"
    )


def local_malformed_view(settings: JobSettings) -> str:
    """Lines that are not JSON objects, as read: exactly the lines the JSON format skips (a byte order mark
    before the object is accepted by both). A blank line (e.g. a trailing newline) is no record."""
    progress = ", `file_path`, `proc`" if settings.mode == "streaming" else ""
    bom = sql_string("\ufeff")
    without_bom = f"CASE WHEN SUBSTRING(`line` FROM 1 FOR 1) = {bom} THEN SUBSTRING(`line` FROM 2) ELSE `line` END"
    return (
        f"CREATE TEMPORARY VIEW `{MALFORMED_VIEW}` AS\n"
        f"SELECT `line` AS `raw_line`{progress}\n"
        f"FROM `{LINES_TABLE}`\n"
        f"WHERE CHAR_LENGTH(TRIM(`line`)) > 0 AND NOT (({without_bom}) IS JSON OBJECT)"
    )


def local_sink_options(settings: JobSettings, table: str) -> dict[str, str]:
    assert settings.sink_path is not None
    options = {
        "connector": "filesystem",
        "path": (Path(settings.sink_path).resolve() / table).as_uri(),
        "format": "json",
        "json.timestamp-format.standard": "ISO-8601",
        "json.encode.decimal-as-plain-number": "true",
        "sink.parallelism": "1",
    }
    if settings.mode == "streaming":
        # Row formats only commit rolled part files: roll at least once per checkpoint interval so every
        # checkpoint makes the output so far visible, as an Iceberg commit would.
        roll = max(settings.checkpoint_interval_ms // 2, 100)
        options["sink.rolling-policy.rollover-interval"] = format_duration(roll)
        options["sink.rolling-policy.check-interval"] = format_duration(max(roll // 2, 50))
    return options


def local_sink_ddl(settings: JobSettings, table: str, columns: schemas.Columns) -> str:
    """A local output table. Its timestamps are ``TIMESTAMP_LTZ``: the JSON format writes those in ISO-8601
    with ``Z`` (the input's own format, what other tools take), plain TIMESTAMPs without a zone. The session
    time zone is UTC, so the INSERTs' TIMESTAMP values convert to the same instants."""
    local_columns = tuple((name, sql_type.replace("TIMESTAMP(", "TIMESTAMP_LTZ(")) for name, sql_type in columns)
    return _create_table(
        f"unilake_sink_{table}", schemas.column_definitions(local_columns), local_sink_options(settings, table)
    )


def local_output_ddls(settings: JobSettings) -> tuple[str, ...]:
    """The local sink table of each output table."""
    columns = (schemas.SALES_PER_MINUTE, schemas.FRAUD_ALERTS, schemas.QUARANTINE)
    return tuple(local_sink_ddl(settings, table, cols) for table, cols in zip(OUTPUT_TABLES, columns, strict=True))


# --- the pipeline, written once -----------------------------------------------------------------------------


def late_condition(settings: JobSettings) -> str:
    """Streaming only: whether a record arrives too late for its window, by the current watermark of the
    operator that classifies it (null before the first watermark: nothing is late then).

    Local (a watermark assigner, ``rowtime - out-of-orderness``): at or behind the watermark.
    msf (the one reader's watermark, iceberg_stream.py: the largest minimum ``event_time`` of the files it has
    started, or in a quiet period ``now - source.idle-timeout``; the classifying operators run behind an
    exchange and all see that watermark): behind the watermark, or at it in the last millisecond of its window.
    A file's own records are never behind its split watermark (it is their minimum), so only a record whose
    file's minimum is older than a watermark already emitted is LATE: a file committed after newer ones were
    read, or, after a quiet period, one committed more than (idle timeout - monitor interval) after its event
    time. Either way a record not LATE is never dropped by the windows: their watermark is never ahead of the
    classifying operator's, and a window drops a record only once the watermark has reached the window's last
    millisecond.
    """
    if settings.mode == "batch":
        return "FALSE"
    watermark = "CURRENT_WATERMARK(`rowtime`)"
    if settings.profile != "msf":
        return f"({watermark} IS NOT NULL AND `rowtime` <= {watermark})"
    return (
        f"({watermark} IS NOT NULL AND (`rowtime` < {watermark}"
        f" OR `rowtime` = {watermark} AND {_last_millisecond_of_window('`rowtime`', settings)}))"
    )


def _last_millisecond_of_window(column: str, settings: JobSettings) -> str:
    """TRUE if ``column`` is the last millisecond of its tumbling window (windows start at multiples of the
    window size since the epoch; the size is a whole number of seconds)."""
    after = f"({column} + INTERVAL '0.001' SECOND)"
    seconds = (
        f"CAST(TIMESTAMPDIFF(DAY, {EPOCH}, {after}) AS BIGINT) * 86400"
        f" + TIMESTAMPDIFF(SECOND, CAST(CAST({after} AS DATE) AS TIMESTAMP(3)), {after})"
    )
    return f"(FLOOR({after} TO SECOND) = {after} AND MOD({seconds}, {settings.window_size_ms // 1000}) = 0)"


def classified_view(settings: JobSettings) -> str:
    """The first quarantine reason that applies to each received record, or NULL for a valid one.

    Only the columns its readers use: the view is optimized as a block of its own (it feeds two INSERTs), so
    a column it selects is computed for every record even if no reader needs it (``valid_event_time`` would
    run the event-time check once more, beside the reason's and the rowtime's)."""
    missing = " OR ".join(f"`{name}` IS NULL" for name in schemas.RECEIVED_FIELDS)
    return (
        f"CREATE TEMPORARY VIEW `{CLASSIFIED_VIEW}` AS\n"
        f"SELECT {RECEIVED_COLUMNS}, `rowtime`, `qty`, `price`,\n"
        "  CASE\n"
        f"    WHEN {missing} THEN 'MISSING_FIELD'\n"
        "    WHEN NOT `valid_event_time` THEN 'BAD_EVENT_TIME'\n"
        "    WHEN `qty` IS NULL OR `qty` <= 0 THEN 'BAD_QUANTITY'\n"
        "    WHEN `price` IS NULL OR `price` < 0 THEN 'BAD_PRICE'\n"
        f"    WHEN {late_condition(settings)} THEN 'LATE'\n"
        "  END AS `reason`\n"
        f"FROM `{RECEIVED_VIEW}`"
    )


def valid_view() -> str:
    return (
        f"CREATE TEMPORARY VIEW `{VALID_VIEW}` AS\n"
        "SELECT `transaction_id`, `store_id`, `region`, `card_id`,\n"
        "  `qty` AS `quantity`, `price` AS `unit_price`, `rowtime`\n"
        f"FROM `{CLASSIFIED_VIEW}`\n"
        "WHERE `reason` IS NULL"
    )


def once_view(settings: JobSettings) -> str:
    """One row per transaction_id and 1-minute window, with the window's ``window_start`` and ``window_end``.

    Every consumer (sales, the card windows, HIGH_VALUE) groups by or selects these window columns rather
    than windowing again: Flink plans an aggregation over the window columns of a window aggregation as a
    window aggregation on the same windows (streaming: ``WindowAggregate`` with ``TUMBLE(win_start,
    win_end)``, append-only), and a new ``TUMBLE`` would cost a window table function per consumer.

    ``transaction_id`` leads the grouping: in batch mode the deduplication is a sort, and a leading string key
    lets the sort compare most records by their key prefix instead of the whole record (measured ~30 % faster
    than sorting by the window first, in which all records of a window tie)."""
    return (
        f"CREATE TEMPORARY VIEW `{ONCE_VIEW}` AS\n"
        "SELECT `transaction_id`,\n"
        "  MIN(`store_id`) AS `store_id`, MIN(`region`) AS `region`, MIN(`card_id`) AS `card_id`,\n"
        "  MIN(`quantity`) AS `quantity`,\n"
        "  MIN(CAST(`quantity` * `unit_price` AS DECIMAL(18, 2))) AS `amount`,\n"
        "  `window_start`, `window_end`\n"
        f"FROM TABLE(TUMBLE(TABLE `{VALID_VIEW}`, DESCRIPTOR(`rowtime`), {_interval(settings.window_size_ms)}))\n"
        "GROUP BY `transaction_id`, `window_start`, `window_end`"
    )


def card_store_windows_view() -> str:
    """Per card, store and window: the first level of the card windows (distinct stores = rows per card)."""
    return (
        f"CREATE TEMPORARY VIEW `{CARD_STORE_WINDOWS_VIEW}` AS\n"
        "SELECT `card_id`, `store_id`, `window_start`, `window_end`,\n"
        "  COUNT(*) AS `transactions`, SUM(`amount`) AS `amount`\n"
        f"FROM `{ONCE_VIEW}`\n"
        "GROUP BY `card_id`, `store_id`, `window_start`, `window_end`"
    )


def card_windows_view() -> str:
    """Per card and window, grouped by the windows of the level before (no new TUMBLE, as in
    :func:`once_view`). In batch, ``table.optimizer.shuffle-by-partial-key-enabled`` then lets both levels
    share one shuffle by card and window and run chained in one task (a new TUMBLE would hide that the
    windows are the same)."""
    return (
        f"CREATE TEMPORARY VIEW `{CARD_WINDOWS_VIEW}` AS\n"
        "SELECT `card_id`, `window_start`, `window_end`,\n"
        "  SUM(`transactions`) AS `transactions`,\n"
        "  COUNT(*) AS `distinct_stores`,\n"
        "  CAST(SUM(`amount`) AS DECIMAL(18, 2)) AS `amount`\n"
        f"FROM `{CARD_STORE_WINDOWS_VIEW}`\n"
        "GROUP BY `card_id`, `window_start`, `window_end`"
    )


def _counted(function: str | None, value: str) -> str:
    """``value``, through the metric function ``function`` (msf: metric_names) when given."""
    return f"{function}({value})" if function else value


def sales_insert(sink: str, *, count_function: str | None = None) -> str:
    return (
        f"INSERT INTO {sink}\n"
        "SELECT `region`, `store_id`,\n"
        "  CAST(`window_start` AS TIMESTAMP(6)), CAST(`window_end` AS TIMESTAMP(6)),\n"
        f"  {_counted(count_function, 'COUNT(*)')}, CAST(SUM(`quantity`) AS BIGINT), "
        "CAST(SUM(`amount`) AS DECIMAL(18, 2))\n"
        f"FROM `{ONCE_VIEW}`\n"
        "GROUP BY `region`, `store_id`, `window_start`, `window_end`"
    )


def fraud_insert(sink: str, settings: JobSettings) -> str:
    window = "CAST(`window_start` AS TIMESTAMP(6)), CAST(`window_end` AS TIMESTAMP(6))"
    card_rule = (
        "SELECT {rule}, `card_id`, " + window + ", `transactions`, `distinct_stores`, `amount`, "
        "CAST(NULL AS STRING)\n"
        f"FROM `{CARD_WINDOWS_VIEW}` WHERE {{condition}}"
    )
    min_amount = f"CAST({settings.high_value_min_amount} AS DECIMAL(18, 2))"
    return (
        f"INSERT INTO {sink}\n"
        + card_rule.format(rule="'VELOCITY'", condition=f"`transactions` >= {settings.velocity_min_transactions}")
        + "\nUNION ALL\n"
        + card_rule.format(rule="'MULTI_STORE'", condition=f"`distinct_stores` >= {settings.multi_store_min_stores}")
        + "\nUNION ALL\n"
        + "SELECT 'HIGH_VALUE', `card_id`, "
        + window
        + ", CAST(1 AS BIGINT), CAST(1 AS BIGINT), `amount`, `transaction_id`\n"
        + f"FROM `{ONCE_VIEW}` WHERE `amount` >= {min_amount}"
    )


def quarantine_insert(sink: str, *, count_function: str | None = None) -> str:
    nulls = ", ".join("CAST(NULL AS STRING)" for _ in schemas.RECEIVED_FIELDS)
    ingest_time = "CAST(LOCALTIMESTAMP AS TIMESTAMP(6))"
    return (
        f"INSERT INTO {sink}\n"
        f"SELECT {_counted(count_function, '`reason`')}, {RECEIVED_COLUMNS}, CAST(NULL AS STRING), {ingest_time}\n"
        f"FROM `{REJECTED_VIEW}`\n"
        "UNION ALL\n"
        f"SELECT 'MALFORMED', {nulls}, `raw_line`, {ingest_time}\n"
        f"FROM `{MALFORMED_VIEW}`"
    )


def progress_insert() -> str:
    """Lines accounted for per file and second of processing time (local streaming): records read plus
    malformed lines, committed at each checkpoint like the outputs, so the driver knows when the job has read
    every non-blank line of every file it can see (both tables read the files independently)."""
    per_second = (
        "SELECT `file_path`, COUNT(*)\n"
        "FROM TABLE(TUMBLE(TABLE `{table}`, DESCRIPTOR(`proc`), INTERVAL '1' SECOND))\n"
        "GROUP BY `file_path`, `window_start`, `window_end`"
    )
    return (
        f"INSERT INTO `unilake_sink_{PROGRESS_TABLE}`\n"
        + per_second.format(table=SOURCE_TABLE)
        + "\nUNION ALL\n"
        + per_second.format(table=MALFORMED_VIEW)
    )


def pipeline_views(settings: JobSettings) -> tuple[str, ...]:
    return (
        classified_view(settings),
        valid_view(),
        once_view(settings),
        card_store_windows_view(),
        card_windows_view(),
    )


def sink_names(settings: JobSettings) -> dict[str, str]:
    """Fully qualified sink per output table."""
    if settings.profile == "msf":
        prefix = f"`{settings.catalog_name}`.`{settings.database}`"
        return {
            DEFAULT_SALES_TABLE: f"{prefix}.`{settings.sink_sales_table}`",
            DEFAULT_FRAUD_TABLE: f"{prefix}.`{settings.sink_fraud_table}`",
            DEFAULT_QUARANTINE_TABLE: f"{prefix}.`{settings.sink_quarantine_table}`",
        }
    return {table: f"`unilake_sink_{table}`" for table in OUTPUT_TABLES}


def build_plan(settings: JobSettings, *, msf_source_override: dict[str, str] | None = None) -> PipelinePlan:
    """All statements of the job for ``settings`` (see the module docstring).

    ``msf_source_override`` (tests only) replaces the Iceberg connector options of the msf source table.
    """
    sinks = sink_names(settings)
    # msf: the sales counts and the quarantine reasons pass through the functions that publish them as
    # metrics (metrics.py; job.prepare registers them when a plan calls them).
    counted = settings.profile == "msf"
    inserts: tuple[str, ...] = (
        sales_insert(sinks[DEFAULT_SALES_TABLE], count_function=metric_names.AGGREGATED_FUNCTION if counted else None),
        fraud_insert(sinks[DEFAULT_FRAUD_TABLE], settings),
        quarantine_insert(
            sinks[DEFAULT_QUARANTINE_TABLE], count_function=metric_names.QUARANTINED_FUNCTION if counted else None
        ),
    )
    if is_backfill(settings):
        inserts = backfill_inserts(inserts)
    if settings.profile == "msf":
        assert settings.database is not None
        # Streaming on Iceberg: the source is built with the DataStream API (StreamSource); otherwise a table.
        stream_source = (
            msf_stream_source(settings) if settings.mode == "streaming" and msf_source_override is None else None
        )
        source_ddl = () if stream_source else (msf_source_ddl(settings, connector_options=msf_source_override),)
        setup = (
            catalog_ddl(settings),
            *source_ddl,
            msf_received_view(settings, streaming_source_view=stream_source is not None),
            msf_malformed_view(),
            *pipeline_views(settings),
            msf_rejected_view(),
        )
        required = tuple(
            (settings.database, table)
            for table in (
                settings.source_table,
                settings.sink_sales_table,
                settings.sink_fraud_table,
                settings.sink_quarantine_table,
            )
        )
        return PipelinePlan(setup=setup, inserts=inserts, required_tables=required, stream_source=stream_source)
    setup = (
        local_source_ddl(settings),
        local_received_view(),
        local_lines_ddl(settings),
        local_malformed_view(settings),
        *local_output_ddls(settings),
    )
    if settings.mode == "streaming":
        setup += (local_sink_ddl(settings, PROGRESS_TABLE, PROGRESS_COLUMNS),)
        inserts += (progress_insert(),)
    return PipelinePlan(setup=(*setup, *pipeline_views(settings), local_rejected_view()), inserts=inserts)


def backfill_inserts(inserts: tuple[str, ...]) -> tuple[str, ...]:
    """A backfill replaces what it recomputes: ``INSERT OVERWRITE`` (bounded jobs only), which Iceberg commits
    as a dynamic partition overwrite: exactly the partitions the job writes are replaced, here the sinks'
    ``day(window_start)`` partitions of the backfilled days (every window lies within one day, see
    ``properties.DAY_MS``). Quarantine is partitioned by ``day(ingest_time)``: an overwrite would replace
    today's partitions, which hold the stream's rejects, so a backfill does not write quarantine at all
    (flink_app/README.md, "Backfills")."""
    sales, fraud, _quarantine = inserts
    return tuple(insert.replace("INSERT INTO ", "INSERT OVERWRITE ", 1) for insert in (sales, fraud))


_READ_HINT = re.compile(r" /\*\+ OPTIONS\(.*\) \*/")


def msf_plan_on_local_files(settings: JobSettings, *, typed_folder: Path, sink_path: Path) -> PipelinePlan:
    """The msf profile's statements with only the Iceberg pieces swapped for local files (tests, benchmark).

    The Iceberg jar cannot run on machines without Maven Central: the source keeps its typed columns,
    rowtime and watermark but reads JSON files of typed rows (``typed_folder``), the read hint is dropped
    (the filesystem connector rejects Iceberg's options; the hint is unit-tested on its own), no catalog is
    created, and the inserts write to the local profile's sinks under ``sink_path``. The views and INSERT
    text are exactly the msf ones.
    """
    override = {
        "connector": "filesystem",
        "path": typed_folder.resolve().as_uri(),
        "format": "json",
        "json.timestamp-format.standard": "ISO-8601",
    }
    plan = build_plan(settings, msf_source_override=override)
    local = replace(settings, profile="local", source_path=str(typed_folder), sink_path=str(sink_path))
    msf_sinks, local_sinks = sink_names(settings), sink_names(local)
    inserts = []
    for insert in plan.inserts:
        for table in OUTPUT_TABLES:
            insert = insert.replace(msf_sinks[table], local_sinks[table])
        inserts.append(insert)
    setup = tuple(
        _READ_HINT.sub("", statement) for statement in plan.setup if not statement.startswith("CREATE CATALOG")
    )
    return PipelinePlan(setup=setup + local_output_ddls(local), inserts=tuple(inserts))
