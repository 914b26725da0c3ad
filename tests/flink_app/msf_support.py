"""Helpers of the msf end-to-end tests: the profile pointed at the local moto lake, commits, runs, read-back.

The job runs in this process's JVM (PyFlink mini-cluster, ``pipeline.jars`` = the dependency jar), against
the Glue and S3 of a moto server; pyiceberg (``.venv``) lands the commits and reads the sinks through
``tests.local_aws.client.Lake``. See ``tests/local_aws/__init__.py`` for the two-venv design.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flink_app.datagen import typed_line
from flink_app.unilake_job.properties import DEPENDENCY_JAR_NAME, JobSettings, parse_settings
from tests.local_aws.client import Lake
from tests.local_aws.moto import REGION

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPENDENCY_JAR = REPO_ROOT / "flink_app" / "lib" / DEPENDENCY_JAR_NAME
SINKS = ("sales_per_minute", "fraud_alerts", "quarantine")
Row = dict[str, Any]
#: Decimal columns of the sinks (pyiceberg gives them as strings through the JSON of the lake CLI).
DECIMAL_COLUMNS = frozenset({"revenue", "amount"})


@dataclass(frozen=True)
class MsfLake:
    """One Glue database with the four tables on the shared moto server, and how the job reaches it."""

    lake: Lake
    endpoint: str
    warehouse: str
    database: str

    def property_map(self, *, mode: str, **extra: str) -> dict[str, str]:
        """The msf profile's settings for this lake: endpoints, path-style access and region are the
        optional catalog settings; everything else is what Managed Flink gets."""
        return {
            "profile": "msf",
            "mode": mode,
            "warehouse": self.warehouse,
            "database": self.database,
            "catalog.glue.endpoint": self.endpoint,
            "catalog.s3.endpoint": self.endpoint,
            "catalog.s3.path-style-access": "true",
            "catalog.client.region": REGION,
            **extra,
        }

    def settings(self, *, mode: str, **extra: str) -> JobSettings:
        property_map = self.property_map(mode=mode, **extra)
        return parse_settings([{"PropertyGroupId": "unilake.job", "PropertyMap": property_map}])

    def sinks(self) -> dict[str, list[Row]]:
        """The committed rows of the three sinks, decimals as Decimal."""
        tables = self.lake.read(SINKS)
        return {name: [_typed_sink_row(row) for row in tables[name]["rows"]] for name in SINKS}

    def snapshots(self, tables: Sequence[str] = SINKS) -> dict[str, list[dict[str, Any]]]:
        read = self.lake.read(tables)
        return {name: read[name]["snapshots"] for name in tables}


def _typed_sink_row(row: Row) -> Row:
    return {k: Decimal(v) if k in DECIMAL_COLUMNS and v is not None else v for k, v in row.items()}


def typed_rows(lines: Iterable[str]) -> list[Row]:
    """The rows an Iceberg ``transactions`` table can hold for these JSON lines (``datagen.typed_line``)."""
    return [json.loads(typed) for line in lines if (typed := typed_line(line)) is not None]


def as_json_lines(rows: Iterable[Row]) -> list[str]:
    """The typed rows as the JSON lines a producer sends (event time ISO-8601 UTC with ``Z``): the same records
    for the local profile."""
    return [json.dumps({**row, "event_time": f"{row['event_time']}Z"}) for row in rows]


def commits_by_minute(rows: Sequence[Row], *, minutes_per_commit: int = 1) -> list[list[Row]]:
    """Rows grouped into commits of whole event-time minutes, in event-time order: each commit holds every
    region of its minutes, so pyiceberg writes one data file per region, all spanning the same minutes."""
    by_minute: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_minute[str(row["event_time"])[:16]].append(row)
    minutes = sorted(by_minute)
    return [
        [row for minute in minutes[i : i + minutes_per_commit] for row in by_minute[minute]]
        for i in range(0, len(minutes), minutes_per_commit)
    ]


def wait_until(condition: Callable[[], bool], *, timeout_s: float, what: str, poll_s: float = 0.5) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll_s)
    raise AssertionError(f"timed out after {timeout_s:g}s waiting for {what}")


def completed_checkpoints(checkpoint_dir: Path, job_id: str) -> list[Path]:
    return sorted(checkpoint_dir.glob(f"{job_id}/chk-*/_metadata"), key=lambda p: int(p.parent.name[4:]))


def comparable_rows(rows: Sequence[Row], *, drop: Sequence[str] = ()) -> list[tuple[tuple[str, str], ...]]:
    """Rows as sorted tuples: decimals by value, timestamps as ISO-8601 without a zone or trailing zeros,
    whether they come from pyiceberg or from the local profile's JSON files."""

    def norm(value: object) -> str:
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            return str(Decimal(value).normalize())
        if isinstance(value, str) and len(value) >= 19 and value[10] == "T" and value[4] == "-":
            try:
                return datetime.fromisoformat(value.rstrip("Z")).isoformat()
            except ValueError:
                return json.dumps(value)
        return json.dumps(value)

    return sorted(tuple(sorted((k, norm(v)) for k, v in row.items() if k not in drop)) for row in rows)
