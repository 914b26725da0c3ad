"""Data in and out through pyiceberg on the Glue catalog: ``load`` and ``show``.

``load`` appends JSON-lines files to a source table, one Iceberg commit (an ``append`` snapshot, which the
streaming job reads) per file. Every record of every file is checked against the table's Iceberg schema
first; if any does not fit, each problem is listed with its file, line, field and reason and nothing is
committed. ``show`` prints a table's counts and its latest rows.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.expressions import AlwaysTrue, BooleanExpression, GreaterThanOrEqual
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.types import (
    BooleanType,
    DecimalType,
    DoubleType,
    FloatType,
    IcebergType,
    IntegerType,
    LongType,
    StringType,
    TimestampType,
    TimestamptzType,
)

from unilake_config import Environment

from .errors import OpsError
from .lake import SUMMARY_KEYS, _load

#: At most this many refusals are listed (the count of the rest is given).
MAX_PROBLEMS_SHOWN = 20
_INT_RANGE = {IntegerType: (-(2**31), 2**31 - 1), LongType: (-(2**63), 2**63 - 1)}
_UTC_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


class Refused(ValueError):
    """One value does not fit its column; the message is the reason."""


def _shown(value: Any) -> str:
    """A JSON value as the producer wrote it (numbers were parsed as Decimal)."""
    return str(value) if isinstance(value, Decimal) else json.dumps(value)


def _value(value: Any, field_type: IcebergType) -> Any:
    """``value`` as read from JSON, converted to what pyarrow writes for ``field_type``; :class:`Refused`."""
    if isinstance(field_type, StringType):
        if not isinstance(value, str):
            raise Refused(f"expected a string, got {_shown(value)}")
        return value
    if isinstance(field_type, IntegerType | LongType):
        if isinstance(value, bool) or not isinstance(value, int):
            raise Refused(f"expected a whole number, got {_shown(value)}")
        low, high = _INT_RANGE[type(field_type)]
        if not low <= value <= high:
            raise Refused(f"{value} is out of range for {field_type}")
        return value
    if isinstance(field_type, DecimalType):
        if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
            raise Refused(f"expected a number with at most {field_type.scale} decimals, got {_shown(value)}")
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise Refused(f"{value!r} is not a number") from None
        if not number.is_finite():
            raise Refused(f"{value!r} is not a finite number")
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > field_type.scale:
            raise Refused(f"{value} has more than {field_type.scale} decimals ({field_type})")
        quantized = number.quantize(Decimal(1).scaleb(-field_type.scale))
        if len(quantized.as_tuple().digits) > field_type.precision:
            raise Refused(f"{value} does not fit {field_type}")
        return quantized
    if isinstance(field_type, TimestampType | TimestamptzType):
        if not isinstance(value, str) or not _UTC_TIMESTAMP.match(value):
            raise Refused(f"expected an ISO-8601 UTC timestamp such as 2026-11-25T10:00:00Z, got {_shown(value)}")
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as error:
            raise Refused(f"{value!r} is not a valid date and time ({error})") from None
        utc = moment.astimezone(UTC)
        return utc if isinstance(field_type, TimestamptzType) else utc.replace(tzinfo=None)
    if isinstance(field_type, BooleanType):
        if not isinstance(value, bool):
            raise Refused(f"expected true or false, got {_shown(value)}")
        return value
    if isinstance(field_type, FloatType | DoubleType):
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise Refused(f"expected a number, got {_shown(value)}")
        return float(value)
    raise Refused(f"column type {field_type} is not supported by `ops load`")


def check_record(line: str, schema: Schema) -> dict[str, Any]:
    """One JSON line as a row of ``schema``; :class:`Refused` naming the field and the reason."""
    try:
        record = json.loads(line, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise Refused(f"not valid JSON ({error.msg}, column {error.colno})") from None
    if not isinstance(record, dict):
        raise Refused(f"expected a JSON object, got {type(record).__name__}")
    known = {field.name for field in schema.fields}
    unknown = sorted(set(record) - known)
    if unknown:
        raise Refused(f"{unknown[0]}: not a column of the table (columns: {', '.join(sorted(known))})")
    row: dict[str, Any] = {}
    for field in schema.fields:
        value = record.get(field.name)
        if value is None:
            if field.required:
                raise Refused(f"{field.name}: required, missing or null")
            row[field.name] = None
            continue
        try:
            row[field.name] = _value(value, field.field_type)
        except Refused as error:
            raise Refused(f"{field.name}: {error}") from None
    return row


@dataclass(frozen=True)
class CheckedFile:
    path: Path
    rows: list[dict[str, Any]]


def check_files(paths: Sequence[Path], schema: Schema) -> tuple[list[CheckedFile], list[str]]:
    """Every file's rows, and every problem as ``FILE:LINE: field: reason`` (blank lines are skipped)."""
    checked: list[CheckedFile] = []
    problems: list[str] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            problems.append(f"{path}: cannot read the file ({error})")
            continue
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append(check_record(line, schema))
            except Refused as error:
                problems.append(f"{path}:{number}: {error}")
        if not rows and not any(problem.startswith(f"{path}:") for problem in problems):
            problems.append(f"{path}: no records (an empty file would make an empty commit)")
        checked.append(CheckedFile(path=path, rows=rows))
    return checked, problems


def load(catalog: Catalog, env: Environment, *, table_name: str, files: Sequence[Path], out: TextIO) -> int:
    """Append each file to ``table_name`` as one commit, after checking them all; nothing on any refusal."""
    spec = next((table for table in env.tables if table.name == table_name), None)
    if spec is None:
        raise OpsError(f"environment {env.name!r} has no table {table_name!r}")
    if spec.role != "source":
        raise OpsError(f"{table_name} is a {spec.role} table, written by the Flink job; load into a source table")
    database = env.config.catalog.database_name
    table = _load(catalog, database, table_name)
    schema = table.schema()
    checked, problems = check_files(files, schema)
    if problems:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        tail = f"\n... and {more} more" if more else ""
        raise OpsError(
            f"nothing loaded into {database}.{table_name}: {len(problems)} record(s) do not fit its schema\n"
            + "\n".join(shown)
            + tail
        )
    arrow_schema = schema.as_arrow()
    for item in checked:
        table.append(pa.Table.from_pylist(item.rows, schema=arrow_schema))
        snapshot = table.current_snapshot()
        snapshot_id = snapshot.snapshot_id if snapshot is not None else "?"
        target = f"{database}.{table_name}"
        records = f"{len(item.rows)} record{'' if len(item.rows) == 1 else 's'}"
        out.write(f"{item.path}: {records} appended to {target} (snapshot {snapshot_id})\n")
    out.write(f"{len(checked)} commit(s); the streaming job reads them within one monitor interval\n")
    return 0


# --- show --------------------------------------------------------------------------------------------------


def _time_column(table: Table) -> str | None:
    """The column the table's time partition is on (``day(window_start)`` -> window_start), or its first
    timestamp column: the rows are shown newest first by it."""
    schema = table.schema()
    for field in table.spec().fields:
        if str(field.transform) in ("year", "month", "day", "hour"):
            return schema.find_field(field.source_id).name
    for column in schema.fields:
        if isinstance(column.field_type, TimestampType | TimestamptzType):
            return column.name
    return None


def _group_column(table: Table) -> str | None:
    """A string column the table is partitioned by as is (``identity(rule)``): counts are shown per value."""
    schema = table.schema()
    for field in table.spec().fields:
        column = schema.find_field(field.source_id)
        if str(field.transform) == "identity" and isinstance(column.field_type, StringType):
            return column.name
    return None


def show(
    catalog: Catalog,
    env: Environment,
    *,
    table_name: str,
    out: TextIO,
    now: datetime,
    since: int,
    limit: int,
) -> int:
    """Counts of the whole table (from its current snapshot) and of its rows of the last ``since`` seconds
    (by its time column, which the day partition prunes), and the newest ``limit`` of those rows."""
    if not any(table.name == table_name for table in env.tables):
        raise OpsError(f"environment {env.name!r} has no table {table_name!r}")
    database = env.config.catalog.database_name
    table = _load(catalog, database, table_name)
    snapshot = table.current_snapshot()
    out.write(f"{database}.{table_name}\n")
    if snapshot is None:
        out.write("  no snapshot yet: the table is empty\n")
        return 0
    props = snapshot.summary.additional_properties if snapshot.summary is not None else {}
    totals = ", ".join(f"{key} {props[key]}" for key in SUMMARY_KEYS if key.startswith("total") and key in props)
    when = datetime.fromtimestamp(snapshot.timestamp_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    out.write(f"  snapshot {snapshot.snapshot_id} at {when}: {totals}\n")
    time_column = _time_column(table)
    start = now - timedelta(seconds=since)
    row_filter: BooleanExpression = AlwaysTrue()
    if time_column is not None:
        value = start.replace(tzinfo=None).isoformat(timespec="microseconds")
        row_filter = GreaterThanOrEqual(term=time_column, value=value)
    rows = table.scan(row_filter=row_filter).to_arrow().to_pylist()
    if time_column is not None:  # the filter let no null time through
        rows.sort(key=lambda row: row[time_column], reverse=True)
    scope = f"{time_column} since {start:%Y-%m-%d %H:%M:%S} UTC" if time_column else "all rows"
    out.write(f"  rows with {scope}: {len(rows)}")
    group = _group_column(table)
    if group is not None and rows:
        counts = Counter(str(row[group]) for row in rows)
        out.write(" (" + ", ".join(f"{group} {key}: {count}" for key, count in counts.most_common()) + ")")
    out.write("\n")
    if not rows:
        out.write("  nothing in that period: widen it with --since (e.g. --since 30d)\n")
        return 0
    out.write(f"  newest {min(limit, len(rows))}{f' by {time_column}' if time_column else ''}:\n")
    columns = [field.name for field in table.schema().fields]
    shown = [[_text(row[column]) for column in columns] for row in rows[:limit]]
    widths = [max(len(column), *(len(values[index]) for values in shown)) for index, column in enumerate(columns)]
    for values in (columns, *shown):
        out.write(("    " + "  ".join(v.ljust(width) for v, width in zip(values, widths, strict=True))).rstrip() + "\n")
    return 0


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if value.tzinfo else value.isoformat() + "Z"
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."
