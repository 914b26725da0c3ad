"""``python -m ops cost``: run the cost model for environments and render it as text, assumptions shown."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from flink_app.unilake_job import properties as job
from unilake_config import Environment
from unilake_config.durations import format_seconds

from .cost import (
    HOURS_PER_MONTH,
    RUNNING_STORAGE_GB_PER_KPU,
    SECONDS_PER_MONTH,
    TIERS,
    EnvironmentCost,
    PollingRow,
    RequestAssumptions,
    StorageInputs,
    cents,
    flink_cost,
    money,
    polling_tradeoff,
    storage_cost,
    table_cost,
)
from .prices import RegionPrices

#: The sink tables the streaming job writes (stacks/streaming_stack.job_settings sets these names). A sink of
#: the registry that is not among them is written by no job: it makes no commit, so no commit requests.
JOB_SINK_TABLES = frozenset({job.DEFAULT_SALES_TABLE, job.DEFAULT_FRAUD_TABLE, job.DEFAULT_QUARANTINE_TABLE})

DEFAULT_INTERVALS = (3, 30, 300)
DEFAULT_TABLE_COUNTS = (1, 1000)
DEFAULT_TIER_MIX = {
    "frequent": Decimal("0.3"),
    "infrequent": Decimal("0.3"),
    "archive_instant": Decimal("0.4"),
}


@dataclass(frozen=True)
class CostOptions:
    """What the CLI lets the user change; every value is printed with the report."""

    gb_per_table: Decimal = Decimal(100)
    objects_per_table: int = 10_000
    tier_mix: Mapping[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_TIER_MIX))
    readers: int = 1
    source_commit_interval: int | None = None
    """Seconds between commits of whoever writes the source tables; default: the job's checkpoint interval."""
    data_files_per_commit: int | None = None
    """Default: the job's parallelism (one file per writer subtask per checkpoint)."""
    intervals: Sequence[int] = DEFAULT_INTERVALS
    table_counts: Sequence[int] = DEFAULT_TABLE_COUNTS


def _tier_prices(prices: RegionPrices) -> dict[str, Decimal]:
    tiering = prices.s3.intelligent_tiering
    return {
        "frequent": tiering.frequent_gb_month,
        "infrequent": tiering.infrequent_gb_month,
        "archive_instant": tiering.archive_instant_gb_month,
        "archive_access": tiering.archive_access_gb_month,
        "deep_archive": tiering.deep_archive_gb_month,
    }


def estimate(
    env: Environment, prices: RegionPrices, options: CostOptions
) -> tuple[EnvironmentCost, RequestAssumptions]:
    flink = env.config.flink
    files = options.data_files_per_commit or flink.parallelism
    # The reader reads the files each commit added.
    assumptions = RequestAssumptions(data_files_per_commit=files, data_files_per_snapshot_read=files)
    storage_inputs = StorageInputs(
        gb=options.gb_per_table, objects=options.objects_per_table, tier_share=options.tier_mix
    )
    storage = storage_cost(
        storage_inputs,
        tier_gb_month=_tier_prices(prices),
        monitoring_per_1000=prices.s3.intelligent_tiering.monitoring_per_1000_objects,
    )
    tables = []
    for table in env.tables:
        is_source = table.role == "source" and table.streaming is not None
        commit_interval: int | None = flink.checkpoint_interval
        if is_source:
            commit_interval = options.source_commit_interval or flink.checkpoint_interval
        elif table.name not in JOB_SINK_TABLES:
            commit_interval = None
        tables.append(
            table_cost(
                name=table.name,
                role=table.role,
                commit_interval=commit_interval,
                monitor_interval=table.streaming.monitor_interval if table.streaming else None,
                readers=options.readers,
                assumptions=assumptions,
                get_per_1000=prices.s3.get_per_1000,
                put_per_1000=prices.s3.put_per_1000,
                storage=storage,
            )
        )
    cost = EnvironmentCost(
        flink=flink_cost(
            kpus=flink.kpus,
            kpu_hour=prices.managed_flink.kpu_hour,
            storage_gb_month=prices.managed_flink.running_storage_gb_month,
        ),
        tables=tuple(tables),
        glue_free_requests=prices.glue.free_requests_per_month,
        glue_per_million=prices.glue.requests_per_million,
    )
    return cost, assumptions


def _price(value: Decimal) -> str:
    """A unit price with at least two decimals and no float noise: 0.1 -> $0.10, 0.0025 -> $0.0025."""
    exponent = value.normalize().as_tuple().exponent
    places = max(2, -exponent if isinstance(exponent, int) else 2)
    return f"${value:.{places}f}"


def _count(value: Decimal) -> str:
    return f"{value:,.0f}"


def _percent(share: Decimal) -> str:
    return f"{(share * 100).normalize():f}%"


def render(
    env: Environment,
    prices: RegionPrices,
    prices_path: Path,
    options: CostOptions,
) -> str:
    cost, assumptions = estimate(env, prices, options)
    config = env.config
    flink = config.flink
    lines: list[str] = []
    add = lines.append
    add(f"=== {config.name}: {config.region}, account {config.account} - monthly estimate (USD) ===")
    add(f"Prices: {prices_path} [{config.region}], as of {prices.as_of}: {prices.source}")
    if prices.unverified:
        add(f"WARNING: unverified prices for {config.region}: {', '.join(prices.unverified)}")
    add("")
    fc = cost.flink
    add(f"Managed Service for Apache Flink: {flink.application_name} (always on, before autoscaling)")
    add(
        f"  compute   ({fc.kpus} KPU{'s' if fc.kpus != 1 else ''} [parallelism {flink.parallelism} / "
        f"{flink.parallelism_per_kpu} per KPU] + 1 orchestration) x {HOURS_PER_MONTH} h x "
        f"{_price(fc.kpu_hour)}/KPU-hour = {money(fc.compute)}"
    )
    add(
        f"  storage   {fc.kpus} KPU x {RUNNING_STORAGE_GB_PER_KPU} GB running application storage x "
        f"{_price(fc.storage_gb_month)}/GB-month = {money(fc.storage)}"
    )
    add(f"  subtotal  {money(fc.total)}")
    add("")
    header = (
        f"  {'table':<22}{'role':<7}{'commit s':>9}{'monitor s':>10}{'GetTable polls':>15}"
        f"{'Glue req':>12}{'S3 GET':>11}{'S3 PUT':>11}{'S3 req $':>10}{'storage $':>11}"
    )
    add("Tables (requests per month; intervals in seconds)")
    add(header)
    for table in cost.tables:
        monitor = f"{table.monitor_interval:,}" if table.monitor_interval else "-"
        commit = f"{table.commit_interval:,}" if table.commit_interval is not None else "- **"
        flag = " *" if table.polls_faster_than_commits else ""
        add(
            f"  {table.name:<22}{table.role:<7}{commit:>9}{monitor:>10}"
            f"{_count(table.polls):>15}{_count(table.glue_requests):>12}{_count(table.s3_gets):>11}"
            f"{_count(table.s3_puts):>11}{money(table.s3_requests):>10}{money(table.storage.total):>11}{flag}"
        )
    if any(table.polls_faster_than_commits for table in cost.tables):
        add("  * polls faster than the writer commits: the extra polls buy no freshness")
    if any(table.commit_interval is None for table in cost.tables):
        add("  ** no job writes this sink (not one of the streaming job's sinks): no commits, storage only")
    add("")
    free = prices.glue.free_requests_per_month
    billable = max(Decimal(0), cost.glue_requests - free)
    add(
        f"Glue Data Catalog: {_count(cost.glue_requests)} requests/month; first {free:,} free per account "
        f"(applied once) -> {_count(billable)} billable x {_price(prices.glue.requests_per_million)}/million "
        f"= {money(cost.glue)}"
    )
    add(
        f"S3 requests: GET {_price(prices.s3.get_per_1000)}/1,000, "
        f"PUT {_price(prices.s3.put_per_1000)}/1,000 "
        f"= {money(cost.s3_requests)}"
    )
    storage_each = cost.tables[0].storage if cost.tables else None
    if storage_each is not None:
        # Exact amounts (a price times a volume has few decimals): the parts add up to the per-table figure.
        tiers = " + ".join(f"{tier} {_price(amount)}" for tier, amount in storage_each.by_tier.items())
        add(
            f"S3 Intelligent-Tiering per table: {tiers} + monitoring ({options.objects_per_table:,} objects x "
            f"{_price(prices.s3.intelligent_tiering.monitoring_per_1000_objects)}/1,000) "
            f"{_price(storage_each.monitoring)} = {_price(storage_each.total)}"
        )
        add(f"  x {len(cost.tables)} tables = {money(cost.storage)}")
    add("")
    # As on a bill: each part rounded to cents as printed above, the total their sum, so the lines add up.
    parts = [cents(part) for part in (cost.flink.total, cost.glue, cost.s3_requests, cost.storage)]
    add(f"TOTAL {config.name}: {money(sum(parts, Decimal(0)))} / month")
    add(
        f"  = Flink {money(parts[0])} + Glue {money(parts[1])} + S3 requests {money(parts[2])} + S3 storage "
        f"{money(parts[3])}"
    )
    add("")
    add("Assumptions")
    add(f"  month: {HOURS_PER_MONTH} h for hourly prices, {SECONDS_PER_MONTH:,} s (30 days) for request counts")
    add("  KPUs from flink.kpus (parallelism / parallelism_per_kpu); autoscaling can raise them")
    add(
        f"  sink commits: one per checkpoint ({format_seconds(flink.checkpoint_interval)}) per sink table; "
        f"source writer commits every "
        f"{format_seconds(options.source_commit_interval or flink.checkpoint_interval)}"
        f"{'' if options.source_commit_interval else ' (default: same as the checkpoint interval)'}"
    )
    add(
        "  every checkpoint commits: an upper bound for sinks that get rows only when a window closes (the "
        "Iceberg sink skips empty commits, writing one in every flink.max-continuous-empty-commits = 10)"
    )
    add(
        f"  per commit: {assumptions.data_files_per_commit} data file PUT(s) + "
        f"{assumptions.metadata_puts_per_commit} metadata PUTs (manifest, manifest list, metadata.json), "
        f"{assumptions.gets_per_commit} GETs (current metadata.json, previous manifest list), "
        f"{assumptions.glue_requests_per_commit} Glue requests (GetTable, UpdateTable)"
    )
    add(
        f"  per new source snapshot and reader: {assumptions.metadata_gets_per_snapshot_read} metadata GETs "
        f"(metadata.json, manifest list, manifest) + "
        f"{assumptions.data_files_per_snapshot_read} data file(s) x "
        f"{assumptions.gets_per_data_file} ranged GETs; readers per source table: {options.readers}"
    )
    add("  polling: one glue:GetTable per monitor-interval per source table and reader; no S3 LIST, no S3 GET")
    add("    (not the widely shared '3 s = $0.04/month per table in S3 LISTs': see ops/README.md)")
    mix = ", ".join(f"{tier} {_percent(options.tier_mix[tier])}" for tier in TIERS if options.tier_mix.get(tier))
    add(
        f"  storage per table: {options.gb_per_table} GB in {options.objects_per_table:,} objects, "
        "all >= 128 KB "
        f"(monitored); bytes by tier: {mix}"
    )
    add("")
    lines.extend(render_tradeoff(env, prices, options))
    return "\n".join(lines)


def tradeoff_rows(env: Environment, prices: RegionPrices, options: CostOptions) -> list[PollingRow]:
    """The monitor-interval trade-off (the table below a report, and ``--chart``)."""
    return list(
        polling_tradeoff(
            options.intervals,
            options.table_counts,
            commit_interval=options.source_commit_interval or env.config.flink.checkpoint_interval,
            readers=options.readers,
            free_requests=prices.glue.free_requests_per_month,
            per_million=prices.glue.requests_per_million,
        )
    )


def render_tradeoff(env: Environment, prices: RegionPrices, options: CostOptions) -> list[str]:
    flink = env.config.flink
    commit_interval = options.source_commit_interval or flink.checkpoint_interval
    rows = tradeoff_rows(env, prices, options)
    lines = [
        f"Monitor-interval trade-off: Glue GetTable cost of polling alone, per month, free "
        f"{prices.glue.free_requests_per_month:,} requests applied once per account; writer commits every "
        f"{format_seconds(commit_interval)}",
        _tradeoff_header(options.table_counts),
    ]
    lines.extend(_tradeoff_line(row) for row in rows)
    lines.append(
        "  S3 requests do not change with the interval: the poll is a catalog call; S3 is read only when a "
        "new snapshot exists."
    )
    return lines


def _tradeoff_header(table_counts: Sequence[int]) -> str:
    counts = "".join(f"{f'{count:,} table' + ('s' if count != 1 else ''):>16}" for count in table_counts)
    return f"  {'interval s':<11}{'GetTable/table':>16}{counts}   freshness s (worst case: commit + interval)"


def _tradeoff_line(row: PollingRow) -> str:
    costs = "".join(f"{money(amount):>16}" for _, amount in row.cost_by_table_count)
    note = f"{row.worst_case_staleness:,}"
    if row.faster_than_commits:
        note += " - faster than commits: no fresher data, only more requests"
    return f"  {row.monitor_interval:<11,}{_count(row.requests_per_table):>16}{costs}   {note}"
