"""Helpers of the msf end-to-end tests: the profile pointed at the local moto lake, commits, runs, read-back.

The job runs in this process's JVM (PyFlink mini-cluster, ``pipeline.jars`` = the dependency jar), against
the Glue and S3 of a moto server; pyiceberg (``.venv``) lands the commits and reads the sinks through
``tests.local_aws.client.Lake``. See ``tests/local_aws/__init__.py`` for the two-venv design.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from flink_test_support import CRAFTED_FILES, outputs

from flink_app.datagen import Generator, typed_line
from flink_app.unilake_job.properties import DEPENDENCY_JAR_NAME, JobSettings, parse_settings
from tests.local_aws.client import Lake, msf_property_map

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
        """The msf profile's settings for this lake (``tests.local_aws.client.msf_property_map``)."""
        base = msf_property_map(self.endpoint, warehouse=self.warehouse, database=self.database, mode=mode)
        return {**base, **extra}  # extra may replace any of them (a missing database, for the refusals)

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


def commits_by_minute(rows: Sequence[Row], *, seconds: int = 60, minutes_per_commit: int = 1) -> list[list[Row]]:
    """Rows grouped into commits of ``seconds`` of event time (60 divisible by it), or of several whole minutes
    (``minutes_per_commit``, with ``seconds`` 60), in event-time order: each commit holds every region of its
    time range, so pyiceberg writes one data file per region, all spanning the same seconds."""
    by_slot: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        text = str(row["event_time"])
        by_slot[f"{text[:17]}{int(text[17:19]) // seconds * seconds:02d}"].append(row)
    slots = sorted(by_slot)
    return [
        [row for slot in slots[i : i + minutes_per_commit] for row in by_slot[slot]]
        for i in range(0, len(slots), minutes_per_commit)
    ]


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout_s: float,
    what: str,
    poll_s: float = 0.5,
    explain: Callable[[], str] | None = None,
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll_s)
    detail = f": {explain()}" if explain else ""
    raise AssertionError(f"timed out after {timeout_s:g}s waiting for {what}{detail}")


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


def in_event_time_order(commits: Sequence[Sequence[Row]]) -> list[list[Row]]:
    """Each commit's rows sorted by event time (pyiceberg writes them in that order)."""
    return [sorted(rows, key=lambda r: str(r["event_time"])) for rows in commits]


@dataclass
class StreamingRun:
    """An msf streaming job on the mini-cluster of this process (see :func:`start_streaming`)."""

    result: Any
    checkpoint_dir: Path

    @property
    def job_id(self) -> str:
        return str(self.result.get_job_client().get_job_id())

    def status(self) -> str:
        from flink_app.unilake_job import job

        return job.job_status(self.result)

    def checkpoints(self) -> list[Path]:
        return completed_checkpoints(self.checkpoint_dir, self.job_id)

    def wait_for_checkpoint(self, *, after: int = 0, timeout_s: float = 120.0) -> Path:
        """Wait until more than ``after`` checkpoints of this job completed; the newest one's folder."""

        def done() -> bool:
            if self.status() in ("FAILED", "CANCELED", "FINISHED"):
                raise AssertionError(f"job ended with status {self.status()}")
            return len(self.checkpoints()) > after

        wait_until(done, timeout_s=timeout_s, what=f"checkpoint {after + 1} of job {self.job_id}")
        return self.checkpoints()[-1].parent

    def stop_with_savepoint(self, *, drain: bool) -> Path:
        """Stop with a savepoint (``drain``: end of event time first, so every window fires)."""
        client = self.result.get_job_client()
        path = client.stop_with_savepoint(drain, (self.checkpoint_dir / "savepoints").resolve().as_uri()).result()
        client.get_job_execution_result().result()
        return Path(str(path).removeprefix("file:"))

    def cancel(self) -> None:
        """Cancel (the job's own mini-cluster shuts down with it: its status can no longer be asked)."""
        client = self.result.get_job_client()
        client.cancel().result()
        try:
            client.get_job_execution_result().result()
        except Exception as error:  # py4j: the job ended as cancelled, which is what we asked for
            if "cancel" not in str(error).lower():
                raise


def start_streaming(
    lake: MsfLake, jar: Path, checkpoint_dir: Path, *, restore_from: Path | None = None, **extra: str
) -> StreamingRun:
    """Submit the msf streaming job: polls ``transactions`` every second, checkpoints (and so commits the
    sinks) every 2 s, exactly-once, checkpoints retained on cancel, on the local mini-cluster."""
    from flink_app.unilake_job import job

    settings = lake.settings(
        mode="streaming", **{"source.monitor-interval": "1s", "checkpoint.interval": "2s", **extra}
    )
    run = job.LocalRun(checkpoint_dir=checkpoint_dir, restore_from=restore_from, jars=(jar,))
    return StreamingRun(result=job.submit(settings, run=run), checkpoint_dir=checkpoint_dir)


def closing_minute(rows: Sequence[Row], *, out_of_orderness_s: int = 5) -> str:
    """The windows that start before this minute (``YYYY-MM-DDTHH:MM``) are closed once ``rows`` are read:
    the watermark is the largest event time minus the out-of-orderness."""
    latest = max(datetime.fromisoformat(str(r["event_time"])) for r in rows)
    return (latest - timedelta(seconds=out_of_orderness_s)).isoformat()[:16]


class ClosedWindowsComplete:
    """A condition: the sales sink holds exactly the expected rows of the windows that start before ``before``
    (``str()`` says what is missing or extra)."""

    def __init__(self, lake: MsfLake, expected_sales: Sequence[Row], *, before: str) -> None:
        self.lake, self.before = lake, before
        self.wanted = comparable_rows([r for r in expected_sales if str(r["window_start"]) < before])
        self.got: list[tuple[tuple[str, str], ...]] = []

    def __call__(self) -> bool:
        rows = self.lake.sinks()["sales_per_minute"]
        self.got = comparable_rows([r for r in rows if str(r["window_start"]) < self.before])
        return self.got == self.wanted

    def __str__(self) -> str:
        missing = [r for r in self.wanted if r not in self.got]
        extra = [r for r in self.got if r not in self.wanted]
        return f"{len(missing)} rows missing (e.g. {missing[:2]}), {len(extra)} unexpected (e.g. {extra[:2]})"


def closed_windows_complete(lake: MsfLake, expected_sales: Sequence[Row], *, before: str) -> ClosedWindowsComplete:
    return ClosedWindowsComplete(lake, expected_sales, before=before)


# --- the records of the end-to-end tests and what they must give ------------------------------------------

#: The crafted input's records an Iceberg table can hold, and five minutes of generated transactions (10:00 to
#: 10:04:59, so that every minute's commit holds all five regions).
RECORDS: list[Row] = typed_rows(line for _, lines in CRAFTED_FILES for line in lines) + typed_rows(
    Generator(seed=11, stores=12, cards=300, per_second=8).lines(2_380)
)
#: What a quarantine row keeps of its record, compared between the profiles (the msf profile renders typed
#: values as text, the local one keeps the text it received).
QUARANTINE_KEY = ("reason", "transaction_id", "store_id", "region", "sku", "card_id")


def local_profile_outputs(tmp: Path, rows: list[Row]) -> dict[str, list[Row]]:
    """The local profile's batch output on the same records (as the JSON lines a producer sends)."""
    from flink_app.unilake_job import job
    from flink_app.unilake_job.properties import parse_settings

    (tmp / "in").mkdir(parents=True)
    (tmp / "in" / "records.jsonl").write_text("\n".join(as_json_lines(rows)) + "\n", encoding="utf-8")
    property_map = {"profile": "local", "mode": "batch", "source.path": str(tmp / "in"), "sink.path": str(tmp / "out")}
    job.run_local(parse_settings([{"PropertyGroupId": "unilake.job", "PropertyMap": property_map}]), log=lambda _: None)
    return outputs(tmp / "out")


def run_msf_batch(lake: MsfLake, jar: Path, **extra: str) -> None:
    from flink_app.unilake_job import job

    job.submit(lake.settings(mode="batch", **extra), run=job.LocalRun(jars=(jar,))).wait()


def assert_same_as_local(result: dict[str, list[Row]], expected: dict[str, list[Row]]) -> None:
    for table in ("sales_per_minute", "fraud_alerts"):
        assert comparable_rows(result[table]) == comparable_rows(expected[table]), table
    assert comparable_rows([{k: r[k] for k in QUARANTINE_KEY} for r in result["quarantine"]]) == comparable_rows(
        [{k: r[k] for k in QUARANTINE_KEY} for r in expected["quarantine"]]
    )


def assert_every_record_accounted_for(result: dict[str, list[Row]], rows: list[Row]) -> None:
    """Aggregated + deduplicated (replays of a transaction in its minute) + quarantined = every record."""
    valid = [r for r in rows if int(r["quantity"]) > 0 and not str(r["unit_price"]).startswith("-")]
    distinct = {(r["transaction_id"], str(r["event_time"])[:16]) for r in valid}
    counted = sum(int(r["transactions"]) for r in result["sales_per_minute"])
    assert counted == len(distinct)
    assert len(result["quarantine"]) == len(rows) - len(valid)
    assert counted + (len(valid) - len(distinct)) + len(result["quarantine"]) == len(rows)


# --- commits of region files over the same seconds (the event-time tests and the hand-off tests) -------------

T0 = datetime(2026, 11, 25, 10, 0, 0)
REGIONS = ("north", "south", "east", "west")
SPAN_S = 20
PER_FILE = 25


def region_rows(
    *,
    ids: str,
    cards: str,
    rng: random.Random,
    event_time: Callable[[random.Random], datetime],
    regions: tuple[str, ...] = REGIONS,
    sizes: Mapping[str, int] | None = None,
) -> list[dict[str, Any]]:
    """``PER_FILE`` records per region (or ``sizes[region]``), transaction ids ``<ids>-<region>-<i>`` and card
    ids ``<cards>-<region>-<i>``, each event time drawn by ``event_time(rng)``, shuffled: one commit whose
    region files span the same seconds."""
    rows = [
        {
            "transaction_id": f"{ids}-{region}-{i}",
            "store_id": f"{region}-{i % 3}",
            "region": region,
            "sku": "sku-1",
            "card_id": f"{cards}-{region}-{i}",
            "quantity": 1,
            "unit_price": "1.00",
            "event_time": event_time(rng).isoformat(timespec="milliseconds"),
        }
        for region in regions
        for i in range((sizes or {}).get(region, PER_FILE))
    ]
    rng.shuffle(rows)
    return rows


def commit_rows(
    k: int, *, regions: tuple[str, ...] = REGIONS, seed: int = 0, sizes: Mapping[str, int] | None = None
) -> list[dict[str, Any]]:
    """Commit ``k``: ``PER_FILE`` records per region (or ``sizes[region]``), event times spread over
    [T0 + 20k s, T0 + 20(k+1) s)."""
    return region_rows(
        ids=f"t{k}",
        cards=f"card-{k}",
        rng=random.Random(seed * 1000 + k),
        event_time=lambda rng: T0 + timedelta(seconds=SPAN_S * k + rng.random() * SPAN_S),
        regions=regions,
        sizes=sizes,
    )


def expected_per_window(
    commits: range, *, regions: tuple[str, ...] = REGIONS, sizes: Mapping[str, int] | None = None
) -> Counter[str]:
    """Records per 1-minute window (window_start as ISO) of these commits."""
    counts: Counter[str] = Counter()
    for k in commits:
        for row in commit_rows(k, regions=regions, sizes=sizes):
            counts[row["event_time"][:16] + ":00"] += 1
    return counts


def complete_windows(
    commits: range, *, regions: tuple[str, ...] = REGIONS, sizes: Mapping[str, int] | None = None
) -> dict[str, int]:
    """Records per window of these commits, for the windows every reader's split watermark has passed once
    the last two commits are read (window end at or before the second-to-last commit's first second)."""
    end_bound = T0 + timedelta(seconds=SPAN_S * (commits.stop - 2))
    return {
        w: n
        for w, n in expected_per_window(commits, regions=regions, sizes=sizes).items()
        if datetime.fromisoformat(w) + timedelta(minutes=1) <= end_bound
    }


def wait_for_windows(lake: MsfLake, expected: Mapping[str, int], *, timeout_s: float, what: str) -> None:
    """Wait until ``sales_per_minute`` counts at least ``expected[w]`` transactions in each window ``w``; on
    time-out the message shows what it holds."""
    wait_until(
        lambda: all(sales_per_window(lake)[w] >= n for w, n in expected.items()),
        timeout_s=timeout_s,
        what=what,
        explain=lambda: f"{dict(sales_per_window(lake))} expected {dict(expected)}",
    )


def sales_per_window(lake: MsfLake) -> Counter[str]:
    counts: Counter[str] = Counter()
    for row in lake.sinks()["sales_per_minute"]:
        counts[str(row["window_start"])[:19]] += int(row["transactions"])
    return counts


def rows_before_now(tag: str, *, span_s: float, regions: tuple[str, ...] = REGIONS) -> list[dict[str, Any]]:
    """``PER_FILE`` records per region whose event times (UTC) spread over the ``span_s`` seconds before now:
    a producer committing as it goes, for the tests that need event time near the clock."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return region_rows(
        ids=tag,
        cards=f"card-{tag}",
        rng=random.Random(tag),
        event_time=lambda rng: now - timedelta(seconds=rng.random() * span_s),
        regions=regions,
    )


def window_start(event_time: str, window_s: int) -> str:
    """The start (ISO, seconds) of the tumbling window of ``window_s`` seconds holding ``event_time``."""
    moment = datetime.fromisoformat(event_time)
    epoch_s = int((moment - datetime(1970, 1, 1)).total_seconds())
    return (datetime(1970, 1, 1) + timedelta(seconds=epoch_s - epoch_s % window_s)).isoformat()
