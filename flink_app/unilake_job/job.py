"""Runs the pipeline with PyFlink: environment, checkpointing, submission, and the local streaming driver."""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

# Not ours: PyFlink imports Apache Beam, whose stager imports pkg_resources, deprecated since setuptools 81.
warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)

from pyflink.common import JobStatus  # noqa: E402
from pyflink.table import (  # noqa: E402
    EnvironmentSettings,
    StatementSet,
    StreamTableEnvironment,
    TableEnvironment,
    TableResult,
)
from pyflink.table.catalog import ObjectPath  # noqa: E402

from . import schemas  # noqa: E402
from .metric_names import AGGREGATED_FUNCTION, QUARANTINED_FUNCTION  # noqa: E402
from .properties import (  # noqa: E402
    AFTER_SNAPSHOT_STRATEGY,
    DEFAULT_STARTING_STRATEGY,
    ICEBERG_FROM_SNAPSHOT_STRATEGY,
    KEY_SOURCE_START_SNAPSHOT_ID,
    KEY_SOURCE_STARTING_STRATEGY,
    JobSettings,
    format_duration,
)
from .sql import (  # noqa: E402
    PROGRESS_TABLE,
    PipelinePlan,
    StreamSource,
    build_plan,
    msf_received_view,
    msf_stream_source,
)

TERMINAL_STATES = ("FINISHED", "FAILED", "CANCELED")
METRIC_FUNCTIONS = (QUARANTINED_FUNCTION, AGGREGATED_FUNCTION)
#: A local run says how far it got at most this often (seconds).
PROGRESS_EVERY_S = 10.0
#: Managed memory of the local mini-cluster (batch sorts and hash aggregations, RocksDB if configured).
LOCAL_MANAGED_MEMORY = "512m"


class JobFailedError(RuntimeError):
    """The Flink job ended in a state other than FINISHED, or a required table is missing."""


@dataclass(frozen=True, kw_only=True)
class LocalRun:
    """Where a local run keeps its state; both optional for batch runs."""

    checkpoint_dir: Path | None = None
    restore_from: Path | None = None
    idle_timeout_s: float = 10.0
    #: Jars for the job's class path (``pipeline.jars``): the msf profile run outside Managed Flink needs the
    #: dependency jar, which the service otherwise loads from the zip's ``lib/``.
    jars: tuple[Path, ...] = ()


def create_table_env(
    settings: JobSettings,
    *,
    checkpoint_dir: Path | None = None,
    restore_from: Path | None = None,
    jars: Sequence[Path] = (),
) -> TableEnvironment:
    """A TableEnvironment for ``settings.mode``.

    On Managed Flink the service owns checkpointing, restarts and parallelism (application configuration), so
    only table-level options are set; locally the job configures exactly-once checkpoints retained on cancel,
    a bounded restart strategy and, when restoring, the checkpoint to start from. ``jars`` (the dependency jar
    of an msf run on a local mini-cluster, as tests and the msf demo do) makes the run local: the msf profile
    then gets the same local runtime options as the local profile.
    """
    env_settings = (
        EnvironmentSettings.in_streaming_mode() if settings.mode == "streaming" else EnvironmentSettings.in_batch_mode()
    )
    t_env = _new_table_env(settings, env_settings)
    config = t_env.get_config()
    config.set("table.local-time-zone", "UTC")
    config.set("pipeline.name", f"unilake-{settings.profile}-{settings.mode}")
    # Optimize each view that several INSERTs read (classified records, the deduplicated transactions) once,
    # as a shared block: without it each INSERT gets its own projection of the view, so sub-plan reuse fails
    # and the JSON parsing and the deduplication run once per consumer (see bench/pipeline_bench.py).
    config.set("table.optimizer.reuse-optimize-block-with-digest-enabled", "true")
    # Batch: an aggregation may shuffle by part of its keys when the next one needs that, so the two levels
    # of the card windows (card x store, then card) share one shuffle and run chained (sql.card_windows_view).
    config.set("table.optimizer.shuffle-by-partial-key-enabled", "true")
    if settings.profile == "local":
        # A source reader (subtask) without records for this long is idle: it stops holding the watermark of
        # the windows back. Reaches the watermark assigner Flink adds after a source (StreamExecWatermarkAssigner).
        # The msf streaming source has one reader, never idle; its quiet watermark is iceberg_stream.py's.
        config.set("table.exec.source.idle-timeout", format_duration(settings.source_idle_timeout_ms))
    if jars:
        config.set("pipeline.jars", ";".join(jar.resolve().as_uri() for jar in jars))
    elif settings.profile == "msf":
        return t_env
    config.set("parallelism.default", str(settings.parallelism))
    # The mini-cluster's default of 128 MB of managed memory makes batch sorts and hash aggregations spill to
    # disk at a few hundred thousand records; a Managed Flink KPU has 4 GB (bench/pipeline_bench.py).
    config.set("taskmanager.memory.managed.size", LOCAL_MANAGED_MEMORY)
    if settings.mode == "batch":
        # Pipelined exchanges: the stages of the batch job run at once and hand records over in memory,
        # instead of one after another through shuffle files on disk (bench/pipeline_bench.py). The price is
        # coarse recovery (a failure restarts the whole bounded job), which a local batch run can afford. The
        # adaptive batch scheduler only accepts blocking or hybrid exchanges, so the default scheduler runs it.
        config.set("execution.batch-shuffle-mode", "ALL_EXCHANGES_PIPELINED")
        config.set("jobmanager.scheduler", "default")
    if settings.parallelism == 1:
        # Local-global (two-phase) aggregation pre-aggregates before a shuffle to spread skewed keys over
        # several tasks; with one task it only adds a sort or hash pass.
        config.set("table.optimizer.agg-phase-strategy", "ONE_PHASE")
    config.set("restart-strategy.type", "fixed-delay")
    config.set("restart-strategy.fixed-delay.attempts", str(settings.restart_attempts))
    config.set("restart-strategy.fixed-delay.delay", format_duration(settings.restart_delay_ms))
    if settings.mode == "streaming":
        config.set("execution.checkpointing.interval", format_duration(settings.checkpoint_interval_ms))
        config.set("execution.checkpointing.timeout", format_duration(settings.checkpoint_timeout_ms))
        config.set("execution.checkpointing.mode", "EXACTLY_ONCE")
        config.set("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION")
        if checkpoint_dir is not None:
            config.set("execution.checkpointing.dir", checkpoint_dir.resolve().as_uri())
            config.set("execution.checkpointing.savepoint-dir", (checkpoint_dir / "savepoints").resolve().as_uri())
        if restore_from is not None:
            config.set("execution.savepoint.path", restore_from.resolve().as_uri())
    if isinstance(t_env, StreamTableEnvironment):
        # The DataStream source takes its parallelism from its environment when it is built (job.prepare),
        # before the table options reach the environment at submission: apply them now.
        t_env._j_tenv.execEnv().configure(config._j_table_config.getConfiguration())
    return t_env


def _new_table_env(settings: JobSettings, env_settings: EnvironmentSettings) -> TableEnvironment:
    """A StreamTableEnvironment for msf streaming (its source is a DataStream, iceberg_stream.py), otherwise a
    plain TableEnvironment."""
    if settings.profile == "msf" and settings.mode == "streaming":
        from pyflink.datastream import StreamExecutionEnvironment

        env = StreamExecutionEnvironment.get_execution_environment()
        return StreamTableEnvironment.create(env, environment_settings=env_settings)
    return TableEnvironment.create(env_settings)


def prepare(
    t_env: TableEnvironment,
    settings: JobSettings,
    plan: PipelinePlan | None = None,
    *,
    log: Callable[[str], None] = print,
) -> StatementSet:
    """Execute the setup statements, the catalog checked first, and return the statement set.

    The catalog is created first; before any other statement reads it (a batch source is declared ``LIKE`` the
    catalog table, and a missing table given to the Iceberg connector would be created by it), the database
    and every required table must exist and the source table must hold only APPEND snapshots
    (:func:`check_catalog`). A stream that starts after a snapshot then gets Iceberg's start position from
    the table's history (:func:`resolve_start`), and the msf streaming source is built with it
    (:func:`_check_and_start`).
    """
    plan = plan or build_plan(settings)
    if any(name in insert for insert in plan.inserts for name in METRIC_FUNCTIONS):
        from . import metrics

        metrics.register(t_env)
    checked = not plan.required_tables
    setup = plan.setup
    for index in range(len(setup)):
        if not checked and not setup[index].startswith("CREATE CATALOG"):
            setup = _check_and_start(t_env, settings, plan, setup, log=log)
            checked = True
        t_env.execute_sql(setup[index])
    if not checked:
        _check_and_start(t_env, settings, plan, setup, log=log)
    statements = t_env.create_statement_set()
    for insert in plan.inserts:
        statements.add_insert_sql(insert)
    return statements


def _check_and_start(
    t_env: TableEnvironment,
    settings: JobSettings,
    plan: PipelinePlan,
    setup: tuple[str, ...],
    *,
    log: Callable[[str], None],
) -> tuple[str, ...]:
    """Check the catalog, resolve the start position (:func:`resolve_start`) and give it to the source: the
    msf streaming source is built now, with the resolved read options (iceberg_stream.py); a source table
    read through a hint gets its received view rendered again. Returns the setup statements to run."""
    check_catalog(t_env, settings, plan)
    setup, source = started(plan, setup, settings, resolve_start(t_env, settings, log=log))
    if source is not None:
        from . import iceberg_stream

        iceberg_stream.register(t_env, source)
    return setup


def started(
    plan: PipelinePlan, setup: tuple[str, ...], settings: JobSettings, resolved: JobSettings
) -> tuple[tuple[str, ...], StreamSource | None]:
    """The setup statements and the msf streaming source for the start position of ``resolved`` settings:
    the stream source's read options from them, or, for a source read through a hint, the received view."""
    if plan.stream_source is None:
        return _with_start(setup, settings, resolved), None
    return setup, msf_stream_source(resolved)


#: Snapshot operations a streamed source table may hold. The incremental append scan of the streaming source
#: (BaseIncrementalAppendScan) reads APPEND snapshots and skips every other one: right for ``replace``
#: (compaction rewrites the same rows), silent data loss for ``overwrite`` and ``delete``.
STREAMABLE_OPERATIONS = frozenset({"append", "replace"})


def check_catalog(t_env: TableEnvironment, settings: JobSettings, plan: PipelinePlan) -> None:
    """:class:`JobFailedError` naming the first missing database or tables, a column the job reads or writes
    that a table lacks, or a source snapshot that the streaming source would skip. Reads the catalog only
    (Glue GetDatabase/GetTable); creates nothing."""
    catalog = t_env.get_catalog(settings.catalog_name)
    if catalog is None:
        raise JobFailedError(f"catalog {settings.catalog_name!r} was not registered")
    for database in dict.fromkeys(db for db, _ in plan.required_tables):
        if not catalog.database_exists(database):
            raise JobFailedError(
                f"database {database!r} not found in catalog {settings.catalog_name!r} "
                "(the job never creates databases or tables; deploy the catalog stack first)"
            )
    missing = [f"{db}.{table}" for db, table in plan.required_tables if not catalog.table_exists(ObjectPath(db, table))]
    if missing:
        raise JobFailedError(
            f"Iceberg tables missing in catalog {settings.catalog_name!r}: {', '.join(missing)} "
            "(the job never creates tables; deploy the catalog stack first)"
        )
    columns = {
        settings.source_table: schemas.TRANSACTIONS,
        settings.sink_sales_table: schemas.SALES_PER_MINUTE,
        settings.sink_fraud_table: schemas.FRAUD_ALERTS,
        settings.sink_quarantine_table: schemas.QUARANTINE,
    }
    for db, table in plan.required_tables:
        present = set(catalog.get_table(ObjectPath(db, table)).get_schema().get_field_names())
        if lacking := [name for name, _ in columns.get(table, ()) if name not in present]:
            uses = "reads" if table == settings.source_table else "writes"
            raise JobFailedError(
                f"Iceberg table {db}.{table} lacks column(s) the job {uses}: {', '.join(lacking)} "
                "(deploy the catalog stack of this version first)"
            )
    if settings.mode == "streaming":
        skipped = skipped_snapshots(catalog, settings)
        if skipped:
            raise JobFailedError(
                f"source table {settings.database}.{settings.source_table} has snapshots the streaming source "
                f"would skip silently (only appends are streamed): {', '.join(skipped[:5])}"
                + (f" and {len(skipped) - 5} more" if len(skipped) > 5 else "")
                + " (producer contract in flink_app/README.md; expire them or start after them)"
            )


def skipped_snapshots(catalog: Any, settings: JobSettings) -> list[str]:
    """The source table's snapshots, still in its history, that change rows other than by appending, as
    ``<id> (<operation>)``, oldest first; empty if the catalog is not an Iceberg FlinkCatalog."""
    j_catalog = getattr(catalog, "_j_catalog", None)
    if j_catalog is None or not hasattr(j_catalog, "catalog"):
        return []
    from pyflink.java_gateway import get_gateway

    identifier = get_gateway().jvm.org.apache.iceberg.catalog.TableIdentifier.parse(
        f"{settings.database}.{settings.source_table}"
    )
    table = j_catalog.catalog().loadTable(identifier)
    skipped = []
    for snapshot in table.snapshots():
        operation = str(snapshot.operation())
        if operation not in STREAMABLE_OPERATIONS:
            skipped.append(f"{snapshot.snapshotId()} ({operation})")
    return skipped


def resolve_start(t_env: TableEnvironment, settings: JobSettings, *, log: Callable[[str], None] = print) -> JobSettings:
    """``settings`` with a stream's start after snapshot A (``INCREMENTAL_AFTER_SNAPSHOT_ID``) mapped onto
    Iceberg's starting strategies through the source table's history (:func:`start_after`); any other
    settings unchanged. Called by :func:`prepare` once :func:`check_catalog` has passed."""
    if settings.mode != "streaming" or settings.source_starting_strategy != AFTER_SNAPSHOT_STRATEGY:
        return settings
    catalog = t_env.get_catalog(settings.catalog_name)
    if catalog is None:
        raise JobFailedError(f"catalog {settings.catalog_name!r} was not registered")
    resolved = start_after(settings, _source_history(catalog, settings))
    after = settings.source_start_snapshot_id
    if resolved.source_starting_strategy == ICEBERG_FROM_SNAPSHOT_STRATEGY:
        log(
            f"start after snapshot {after}: from its child {resolved.source_start_snapshot_id} (inclusive), "
            f"Iceberg's {ICEBERG_FROM_SNAPSHOT_STRATEGY}"
        )
    else:
        log(
            f"start after snapshot {after}, the current one: Iceberg's {resolved.source_starting_strategy} "
            "(a commit landing before the source's first poll would not be read)"
        )
    return resolved


@dataclass(frozen=True)
class SourceHistory:
    """What :func:`start_after` needs of the source table (read lazily from Iceberg's Java table)."""

    table: str
    #: The current snapshot's id, None for a table without snapshots.
    current: int | None
    #: (snapshot id, parent id) of the current snapshot and its ancestors, newest first, as far as retained.
    ancestors: Iterable[tuple[int, int | None]]
    #: Every snapshot id still in the table's metadata (asked only to word a refusal).
    known: Callable[[], Collection[int]]


def start_after(settings: JobSettings, history: SourceHistory) -> JobSettings:
    """Iceberg's start for a stream that reads every APPEND snapshot after A = ``source.start-snapshot-id``
    (exclusive), as a bounded read's ``start-snapshot-id`` does:

    - A has a child C on the current snapshot's lineage: Iceberg's ``INCREMENTAL_FROM_SNAPSHOT_ID`` with C,
      which is inclusive of C (``ContinuousSplitPlannerImpl.discoverInitialSplits`` positions the enumerator
      on C's parent, A itself): exactly after A, whatever is committed meanwhile.
    - A is the current snapshot: ``INCREMENTAL_FROM_LATEST_SNAPSHOT_EXCLUSIVE``, which positions the
      enumerator on the snapshot that is current at the source's first plan. The one window left: a commit
      landing between this check and that first plan (the job's submission, seconds) is not read. Iceberg has
      no streaming start exclusive of a given id, and waiting for A's child could block a start forever.
    - otherwise :class:`JobFailedError` naming the setting, the snapshot and the table: A was never a snapshot
      of it, has expired along with its child, or is not on the current snapshot's lineage (rolled back).
    """
    after = settings.source_start_snapshot_id
    assert after is not None  # properties._check_profile: required with AFTER_SNAPSHOT_STRATEGY
    if history.current is not None and history.current == after:
        return replace(settings, source_starting_strategy=DEFAULT_STARTING_STRATEGY, source_start_snapshot_id=None)
    for snapshot_id, parent_id in history.ancestors:
        if parent_id == after:
            return replace(
                settings, source_starting_strategy=ICEBERG_FROM_SNAPSHOT_STRATEGY, source_start_snapshot_id=snapshot_id
            )
    where = f"{KEY_SOURCE_START_SNAPSHOT_ID} = {after} ({KEY_SOURCE_STARTING_STRATEGY} {AFTER_SNAPSHOT_STRATEGY})"
    if history.current is None:
        problem = f"table {history.table} has no snapshot yet"
    elif after in history.known():
        problem = (
            f"snapshot {after} of table {history.table} is not an ancestor of its current snapshot "
            f"{history.current} (rolled back?), so no stream can start after it"
        )
    else:
        problem = (
            f"no snapshot {after} in the history of table {history.table} (expired, or of another table), "
            "so the stream cannot tell where 'after it' begins"
        )
    raise JobFailedError(
        f"{where}: {problem}; list the table's snapshots with `python -m ops tables --env ENV`. A job restored from "
        f"a snapshot ignores the start position: once it has one, set {KEY_SOURCE_STARTING_STRATEGY} back to "
        f"{DEFAULT_STARTING_STRATEGY}"
    )


def _source_history(catalog: Any, settings: JobSettings) -> SourceHistory:
    """The source table's history through Iceberg's Java catalog (as :func:`skipped_snapshots` reaches it)."""
    from pyflink.java_gateway import get_gateway

    name = f"{settings.database}.{settings.source_table}"
    j_table = catalog._j_catalog.catalog().loadTable(
        get_gateway().jvm.org.apache.iceberg.catalog.TableIdentifier.parse(name)
    )
    current = j_table.currentSnapshot()

    def ancestors() -> Iterator[tuple[int, int | None]]:
        snapshot = current
        while snapshot is not None:
            parent_id = snapshot.parentId()
            yield int(snapshot.snapshotId()), None if parent_id is None else int(parent_id)
            snapshot = None if parent_id is None else j_table.snapshot(parent_id)

    def known() -> list[int]:
        return [int(snapshot.snapshotId()) for snapshot in j_table.snapshots()]

    return SourceHistory(
        table=name,
        current=None if current is None else int(current.snapshotId()),
        ancestors=ancestors(),
        known=known,
    )


def _with_start(setup: tuple[str, ...], settings: JobSettings, resolved: JobSettings) -> tuple[str, ...]:
    """The setup statements with the received view's read hint rendered from ``resolved`` settings."""
    if resolved == settings:
        return setup
    unresolved, view = msf_received_view(settings), msf_received_view(resolved)
    if unresolved not in setup:
        raise JobFailedError("the plan has no msf received view to give the resolved start position")
    return tuple(view if statement == unresolved else statement for statement in setup)


def submit(settings: JobSettings, *, run: LocalRun | None = None) -> TableResult:
    run = run or LocalRun()
    t_env = create_table_env(settings, checkpoint_dir=run.checkpoint_dir, restore_from=run.restore_from, jars=run.jars)
    return prepare(t_env, settings).execute()


def job_status(result: TableResult) -> str:
    client = result.get_job_client()
    status: JobStatus = client.get_job_status().result()
    return str(status).rsplit(".", 1)[-1]


def visible_inputs(folder: Path) -> frozenset[str]:
    """The input files a run can see: ``*.jsonl`` not hidden (producers write a hidden name, then rename)."""
    if not folder.is_dir():
        return frozenset()
    return frozenset(p.name for p in folder.glob("*.jsonl") if not p.name.startswith((".", "_")))


def run_local(
    settings: JobSettings,
    *,
    run: LocalRun | None = None,
    on_running: Callable[[], None] | None = None,
    log: Callable[[str], None] = print,
) -> str:
    """Run the local profile to the end and return the final job status (FINISHED).

    Batch: waits for the bounded job. Streaming: once the job is running (see :func:`_wait_running`), watches
    the input folder; when no new file has arrived for ``idle_timeout_s`` it stops the job with a savepoint
    and drain (final windows fire, every file is committed) and waits for it to finish. ``on_running`` is
    called once the job runs (tests and the demo land files from there).
    """
    run = run or LocalRun()
    result = submit(settings, run=run)
    client = result.get_job_client()
    if settings.mode == "batch":
        if on_running is not None:
            on_running()
        _wait_batch(result, log)
        return "FINISHED"
    assert settings.source_path is not None
    folder = Path(settings.source_path)
    status = _wait_running(result, checkpoint_dir=run.checkpoint_dir)
    log(f"job {client.get_job_id()} is {status}; stopping after {run.idle_timeout_s:g}s without a new file")
    if on_running is not None:
        on_running()
    assert settings.sink_path is not None
    progress_dir = Path(settings.sink_path) / PROGRESS_TABLE
    seen = visible_inputs(folder)
    last_change = time.monotonic()
    idle_since_read: float | None = None
    reported, last_report = "", time.monotonic()
    while True:
        time.sleep(0.25)
        status = job_status(result)
        if status in TERMINAL_STATES:
            raise JobFailedError(f"streaming job ended early with status {status}")
        if time.monotonic() - last_report >= PROGRESS_EVERY_S:
            last_report = time.monotonic()
            if (line := _streaming_progress(folder, progress_dir)) != reported:
                log(line)
                reported = line
        now_seen = visible_inputs(folder)
        if now_seen != seen:
            seen = now_seen
            last_change = time.monotonic()
            continue
        if time.monotonic() - last_change < run.idle_timeout_s:
            continue
        # Idle: stop once the job has read (and committed the progress of) every file it can see.
        behind = unread_files(folder, seen, progress_dir)
        if not behind:
            break
        idle_since_read = idle_since_read or time.monotonic()
        if time.monotonic() - idle_since_read > max(120.0, 10 * run.idle_timeout_s):
            raise JobFailedError(f"input not fully read after the idle timeout: {', '.join(sorted(behind))}")
    log(f"no new input for {run.idle_timeout_s:g}s and every file read: stopping with drain")
    savepoint_dir = (run.checkpoint_dir / "savepoints") if run.checkpoint_dir else None
    client.stop_with_savepoint(True, savepoint_dir.resolve().as_uri() if savepoint_dir else None).result()
    client.get_job_execution_result().result()
    return "FINISHED"


def _wait_batch(result: TableResult, log: Callable[[str], None]) -> None:
    """Wait for a bounded job, saying every :data:`PROGRESS_EVERY_S` that it is still at work (a batch run's
    file sinks commit only at the end, so there is nothing to count before)."""
    started = time.monotonic()
    next_report = started + PROGRESS_EVERY_S
    while True:
        try:
            status = job_status(result)
        except Exception:  # the job is over and its mini-cluster gone: wait() below reports how it ended
            break
        if status in TERMINAL_STATES:
            break
        time.sleep(0.25)
        if time.monotonic() >= next_report:
            next_report += PROGRESS_EVERY_S
            elapsed = time.monotonic() - started
            log(f"batch job {status.lower()} for {elapsed:.0f} s (outputs are committed when it finishes)")
    result.wait()


def _streaming_progress(folder: Path, progress_dir: Path) -> str:
    """How much of the input the job has read and committed, from its progress table."""
    names = visible_inputs(folder)
    done = read_progress(progress_dir)
    total = sum(count_lines(folder / name) for name in names)
    read = sum(min(done.get(name, 0), count_lines(folder / name)) for name in names)
    files = sum(1 for name in names if done.get(name, 0) >= count_lines(folder / name))
    return f"read and committed {read} of {total} input lines; {files} of {len(names)} file(s) complete"


def _wait_running(result: TableResult, *, checkpoint_dir: Path | None, timeout_s: float = 300.0) -> str:
    """Wait until the job runs: RUNNING and, when checkpoints are kept, a first completed checkpoint
    (proof that every task, the file source included, is up)."""
    deadline = time.monotonic() + timeout_s
    job_id = str(result.get_job_client().get_job_id())
    while time.monotonic() < deadline:
        status = job_status(result)
        if status == "RUNNING" and (checkpoint_dir is None or any((checkpoint_dir / job_id).glob("chk-*/_metadata"))):
            return status
        if status in TERMINAL_STATES:
            raise JobFailedError(f"streaming job ended before running, with status {status}")
        time.sleep(0.25)
    raise JobFailedError(f"streaming job not running after {timeout_s:g}s")


_line_counts: dict[tuple[str, float, int], int] = {}


def count_lines(path: Path) -> int:
    """Non-blank lines of a landed input file, as the job counts them (a line of spaces only is no record):
    landed files never change, so counts are cached by name, mtime and size."""
    stat = path.stat()
    key = (str(path), stat.st_mtime, stat.st_size)
    if key not in _line_counts:
        with path.open("rb") as file:
            _line_counts[key] = sum(1 for line in file if line.rstrip(b"\n").strip(b" "))
    return _line_counts[key]


def read_progress(progress_dir: Path) -> dict[str, int]:
    """Committed lines accounted for (records + malformed lines) per input file name, from the progress table
    of a local streaming run."""
    totals: dict[str, int] = {}
    if not progress_dir.is_dir():
        return totals
    for part in progress_dir.iterdir():
        if part.name.startswith((".", "_")) or not part.is_file():
            continue
        for line in part.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                name = str(row["file_path"]).rsplit("/", 1)[-1]
                totals[name] = totals.get(name, 0) + int(row["lines"])
    return totals


def unread_files(folder: Path, names: frozenset[str], progress_dir: Path) -> list[str]:
    """Visible input files whose lines are not all read and committed yet."""
    done = read_progress(progress_dir)
    return [name for name in names if done.get(name, 0) < count_lines(folder / name)]


def latest_checkpoint(checkpoint_dir: Path) -> Path | None:
    """The newest completed checkpoint (``chk-N`` with ``_metadata``) under ``checkpoint_dir``."""
    candidates = [p.parent for p in checkpoint_dir.glob("*/chk-*/_metadata")]
    if not candidates:
        return None
    return max(candidates, key=lambda p: (p.stat().st_mtime, int(p.name.split("-")[1])))
