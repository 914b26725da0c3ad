"""The cost model's arithmetic: pure functions over plain numbers, no I/O.

Every amount is a :class:`~decimal.Decimal` in USD per month; round only when printing (:func:`cents`).
The mechanisms behind each term are in ``ops/README.md``:

* Managed Flink bills (KPUs + 1 orchestration KPU) x hours, plus 50 GB of running storage per KPU.
* The Iceberg Flink source polls a table by refreshing it through the catalog: one ``glue:GetTable``
  per ``monitor-interval`` per source table and reader. Polls make no S3 request at all.
* S3 requests follow commits (writes) and new snapshots (reads), never polls.
* Glue's free tier (1M requests/month) is per account: apply it once per environment, not per table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

HOURS_PER_MONTH = Decimal(730)
"""AWS pricing pages' month: 730 hours (8,760 / 12)."""
SECONDS_PER_MONTH = 2_592_000
"""A 30-day month for request counts: 2,592,000 s; 3 s polling -> 864,000 requests a month."""
RUNNING_STORAGE_GB_PER_KPU = 50
ORCHESTRATION_KPUS = 1
MILLION = Decimal(1_000_000)
THOUSAND = Decimal(1_000)
CENT = Decimal("0.01")

TIERS = ("frequent", "infrequent", "archive_instant", "archive_access", "deep_archive")


def cents(amount: Decimal) -> Decimal:
    """Round half up to whole cents, for display."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def money(amount: Decimal) -> str:
    return f"${cents(amount):,.2f}"


def per_month(interval_seconds: int) -> Decimal:
    """How many times something that happens every ``interval_seconds`` happens in a 30-day month."""
    if interval_seconds <= 0:
        raise ValueError("an interval must be a positive number of seconds")
    return Decimal(SECONDS_PER_MONTH) / Decimal(interval_seconds)


# --- Managed Service for Apache Flink --------------------------------------------------------------------


@dataclass(frozen=True)
class FlinkCost:
    kpus: int
    kpu_hour: Decimal
    storage_gb_month: Decimal

    @property
    def billed_kpus(self) -> int:
        return self.kpus + ORCHESTRATION_KPUS

    @property
    def compute(self) -> Decimal:
        return self.billed_kpus * HOURS_PER_MONTH * self.kpu_hour

    @property
    def storage_gb(self) -> int:
        return self.kpus * RUNNING_STORAGE_GB_PER_KPU

    @property
    def storage(self) -> Decimal:
        return self.storage_gb * self.storage_gb_month

    @property
    def total(self) -> Decimal:
        return self.compute + self.storage


def flink_cost(*, kpus: int, kpu_hour: Decimal, storage_gb_month: Decimal) -> FlinkCost:
    """An always-on application with ``kpus`` KPUs (``flink.kpus``: before autoscaling)."""
    if kpus < 1:
        raise ValueError("an application has at least one KPU")
    return FlinkCost(kpus=kpus, kpu_hour=kpu_hour, storage_gb_month=storage_gb_month)


# --- Glue Data Catalog requests -----------------------------------------------------------------------


def glue_requests_cost(requests: Decimal, *, free_requests: int, per_million: Decimal) -> Decimal:
    """Cost of one account's monthly Glue catalog requests, the free tier applied once."""
    billable = max(Decimal(0), requests - free_requests)
    return billable * per_million / MILLION


def polls_per_month(monitor_interval: int, *, readers: int = 1) -> Decimal:
    """``glue:GetTable`` requests a month from polling one source table (one per poll and reader)."""
    return per_month(monitor_interval) * readers


# --- S3 requests -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestAssumptions:
    """Requests per Iceberg commit and per new snapshot read; printed with every report."""

    data_files_per_commit: int = 1
    """Data files one commit adds (the sink writes about one file per writer subtask and partition)."""
    metadata_puts_per_commit: int = 3
    """Besides data files: one manifest, one manifest list, one metadata.json."""
    gets_per_commit: int = 2
    """The committer reads the current metadata.json and the previous manifest list."""
    glue_requests_per_commit: int = 2
    """GetTable to refresh, UpdateTable to swap the metadata location."""
    data_files_per_snapshot_read: int = 1
    """Data files in a new source snapshot the reader plans and reads."""
    metadata_gets_per_snapshot_read: int = 3
    """Reading a new snapshot: metadata.json, manifest list, one new manifest."""
    gets_per_data_file: int = 2
    """Parquet: the footer, then the row groups (ranged GETs)."""

    @property
    def puts_per_commit(self) -> int:
        return self.data_files_per_commit + self.metadata_puts_per_commit

    @property
    def gets_per_snapshot_read(self) -> int:
        return self.metadata_gets_per_snapshot_read + self.data_files_per_snapshot_read * self.gets_per_data_file


def s3_requests_cost(*, gets: Decimal, puts: Decimal, get_per_1000: Decimal, put_per_1000: Decimal) -> Decimal:
    return gets * get_per_1000 / THOUSAND + puts * put_per_1000 / THOUSAND


# --- S3 Intelligent-Tiering storage ---------------------------------------------------------------------


@dataclass(frozen=True)
class StorageInputs:
    gb: Decimal
    objects: int
    """Objects of 128 KB or more (the only ones Intelligent-Tiering monitors and charges for)."""
    tier_share: Mapping[str, Decimal]
    """Fraction of the bytes in each tier (keys from :data:`TIERS`), summing to 1."""

    def __post_init__(self) -> None:
        unknown = set(self.tier_share) - set(TIERS)
        if unknown:
            raise ValueError(f"unknown Intelligent-Tiering tier(s): {', '.join(sorted(unknown))}")
        if any(share < 0 for share in self.tier_share.values()):
            raise ValueError("tier shares must not be negative")
        if sum(self.tier_share.values(), Decimal(0)) != 1:
            raise ValueError("tier shares must add up to 100%")
        if self.gb < 0 or self.objects < 0:
            raise ValueError("storage volume and object count must not be negative")


@dataclass(frozen=True)
class StorageCost:
    by_tier: Mapping[str, Decimal]
    monitoring: Decimal

    @property
    def total(self) -> Decimal:
        return sum(self.by_tier.values(), Decimal(0)) + self.monitoring


def storage_cost(
    inputs: StorageInputs, *, tier_gb_month: Mapping[str, Decimal], monitoring_per_1000: Decimal
) -> StorageCost:
    by_tier = {
        tier: inputs.gb * inputs.tier_share.get(tier, Decimal(0)) * tier_gb_month[tier]
        for tier in TIERS
        if inputs.tier_share.get(tier, Decimal(0))
    }
    return StorageCost(by_tier=by_tier, monitoring=inputs.objects * monitoring_per_1000 / THOUSAND)


# --- One table, one environment -------------------------------------------------------------------------


@dataclass(frozen=True)
class TableCost:
    name: str
    role: str
    commit_interval: int | None
    """Seconds between the writer's commits (the sink's checkpoint interval, or the source's writer);
    None for a table no job writes (no commits, no commit requests)."""
    monitor_interval: int | None
    """Source tables only: the streaming reader's poll interval."""
    readers: int
    glue_requests: Decimal
    s3_gets: Decimal
    s3_puts: Decimal
    s3_requests: Decimal
    storage: StorageCost

    @property
    def polls(self) -> Decimal:
        return polls_per_month(self.monitor_interval, readers=self.readers) if self.monitor_interval else Decimal(0)

    @property
    def polls_faster_than_commits(self) -> bool:
        return (
            self.monitor_interval is not None
            and self.commit_interval is not None
            and self.monitor_interval < self.commit_interval
        )


def table_cost(
    *,
    name: str,
    role: str,
    commit_interval: int | None,
    monitor_interval: int | None,
    readers: int,
    assumptions: RequestAssumptions,
    get_per_1000: Decimal,
    put_per_1000: Decimal,
    storage: StorageCost,
) -> TableCost:
    """Requests a table causes a month. Glue: commits (+ polls for a source). S3: commits and, for a
    source, reading every new snapshot once per reader. Polls add no S3 request."""
    commits = per_month(commit_interval) if commit_interval is not None else Decimal(0)
    glue = commits * assumptions.glue_requests_per_commit
    gets = commits * assumptions.gets_per_commit
    puts = commits * assumptions.puts_per_commit
    if monitor_interval is not None:
        glue += polls_per_month(monitor_interval, readers=readers)
        # A reader reads each new snapshot once, however often it polls.
        gets += commits * readers * assumptions.gets_per_snapshot_read
    return TableCost(
        name=name,
        role=role,
        commit_interval=commit_interval,
        monitor_interval=monitor_interval,
        readers=readers,
        glue_requests=glue,
        s3_gets=gets,
        s3_puts=puts,
        s3_requests=s3_requests_cost(gets=gets, puts=puts, get_per_1000=get_per_1000, put_per_1000=put_per_1000),
        storage=storage,
    )


@dataclass(frozen=True)
class EnvironmentCost:
    flink: FlinkCost
    tables: tuple[TableCost, ...]
    glue_free_requests: int
    glue_per_million: Decimal

    @property
    def glue_requests(self) -> Decimal:
        return sum((table.glue_requests for table in self.tables), Decimal(0))

    @property
    def glue(self) -> Decimal:
        return glue_requests_cost(
            self.glue_requests, free_requests=self.glue_free_requests, per_million=self.glue_per_million
        )

    @property
    def s3_requests(self) -> Decimal:
        return sum((table.s3_requests for table in self.tables), Decimal(0))

    @property
    def storage(self) -> Decimal:
        return sum((table.storage.total for table in self.tables), Decimal(0))

    @property
    def total(self) -> Decimal:
        return self.flink.total + self.glue + self.s3_requests + self.storage


# --- The trade-off the user tunes: monitor-interval ------------------------------------------------------


@dataclass(frozen=True)
class PollingRow:
    monitor_interval: int
    requests_per_table: Decimal
    cost_by_table_count: tuple[tuple[int, Decimal], ...]
    faster_than_commits: bool
    worst_case_staleness: int
    """Seconds from a row's commit to the reader seeing it, at worst: commit interval + monitor interval."""


def polling_tradeoff(
    intervals: Iterable[int],
    table_counts: Sequence[int],
    *,
    commit_interval: int,
    readers: int,
    free_requests: int,
    per_million: Decimal,
) -> tuple[PollingRow, ...]:
    """Glue cost of polling alone, for N source tables in one account (free tier applied once).

    Freshness: a reader cannot see data before the writer commits it, so polling faster than the
    writer's commit (checkpoint) interval only adds requests.
    """
    rows = []
    for interval in intervals:
        per_table = polls_per_month(interval, readers=readers)
        costs = tuple(
            (
                count,
                glue_requests_cost(per_table * count, free_requests=free_requests, per_million=per_million),
            )
            for count in table_counts
        )
        rows.append(
            PollingRow(
                monitor_interval=interval,
                requests_per_table=per_table,
                cost_by_table_count=costs,
                faster_than_commits=interval < commit_interval,
                worst_case_staleness=commit_interval + interval,
            )
        )
    return tuple(rows)


def parse_tier_mix(text: str) -> dict[str, Decimal]:
    """``"frequent=40,infrequent=60"`` -> fractions; the percentages must add up to 100."""
    shares: dict[str, Decimal] = {}
    for part in text.split(","):
        tier, sep, value = part.strip().partition("=")
        tier = tier.strip().replace("-", "_")
        if not sep or tier not in TIERS:
            raise ValueError(f"{part.strip()!r}: expected TIER=PERCENT with TIER one of {', '.join(TIERS)}")
        try:
            percent = Decimal(value.strip())
        except ArithmeticError:
            raise ValueError(f"{part.strip()!r}: {value.strip()!r} is not a number") from None
        if not percent.is_finite() or percent < 0:
            raise ValueError(f"{part.strip()!r}: a share is a percentage from 0 to 100")
        shares[tier] = percent / 100
    if sum(shares.values(), Decimal(0)) != 1:
        raise ValueError(f"{text!r}: the tier percentages must add up to 100")
    return shares
