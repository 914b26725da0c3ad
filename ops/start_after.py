"""``python -m ops start --after-snapshot A``: start the streaming application without state, after snapshot A.

The range contract of the job (flink_app/README.md, "The range contract"): a stream started after A reads
every APPEND snapshot of ``transactions`` after A, A itself excluded, as a bounded read's
``source.start-snapshot-id`` does; typically A is the snapshot a backfill ran up to (``ops backfill
--up-to-snapshot A``). Steps, each printed:

1. refuse unless the application is READY (a running one would have to be stopped, and its state dropped);
2. check A against the source table as the job will at start: A is the current snapshot, or the parent of
   one of its ancestors (otherwise the job would refuse to start);
3. ``UpdateApplication`` of the job's property group: ``source.starting-strategy`` =
   ``INCREMENTAL_AFTER_SNAPSHOT_ID`` and ``source.start-snapshot-id`` = A (optimistic lock on the
   application version);
4. ``StartApplication`` without restoring a snapshot: the start position only applies to a start without state.
"""

from __future__ import annotations

from typing import Any, TextIO

from pyiceberg.catalog import Catalog
from pyiceberg.table import Table

from flink_app.unilake_job import properties as job
from unilake_config import Environment

from . import flink
from .backfill import job_property_groups, with_job_properties
from .errors import OpsError
from .lake import _load, _when_ms, ancestry


def with_start_after(groups: list[dict[str, Any]], after: int) -> tuple[list[dict[str, Any]], job.JobSettings]:
    """The property groups with the start after ``after``, and the settings the job parses from them
    (validated as the job will validate them)."""
    changes = {
        job.KEY_SOURCE_STARTING_STRATEGY: job.AFTER_SNAPSHOT_STRATEGY,
        job.KEY_SOURCE_START_SNAPSHOT_ID: str(after),
    }
    updated, settings = with_job_properties(groups, changes, application="the application")
    if settings.mode != "streaming" or settings.profile != "msf":
        raise OpsError(
            f"property group {job.JOB_GROUP_ID!r} of this application is not the streaming job's (profile msf, "
            "mode streaming): refusing to change it"
        )
    return updated, settings


def first_after(table: Table, after: int) -> str:
    """Where a stream after ``after`` starts, in words; :class:`OpsError` where the job would refuse to start
    (``job.start_after``: A must be the current snapshot or the parent of one of its ancestors)."""
    chain = ancestry(table)
    name = ".".join(table.name()[-2:])
    if chain and chain[0].snapshot_id == after:
        return (
            f"snapshot {after} is {name}'s current one ({_when_ms(chain[0].timestamp_ms)}): the stream reads "
            "what is committed after its first poll (a commit landing during the start-up would be skipped: "
            "start while the producer is quiet, or once a snapshot after it exists)"
        )
    for snapshot in chain:
        if snapshot.parent_snapshot_id == after:
            return (
                f"first snapshot read: {snapshot.snapshot_id} ({_when_ms(snapshot.timestamp_ms)}), the one "
                f"committed right after {after} in {name}"
            )
    known = table.snapshot_by_id(after) is not None
    reason = "is not an ancestor of its current snapshot (rolled back?)" if known else "is not in its history"
    raise OpsError(
        f"--after-snapshot {after}: snapshot {after} {reason} in {name}; the job would refuse to start "
        f"(`python -m ops tables --env ENV` lists the snapshots)"
    )


def start_after(
    kda: Any,
    catalog: Catalog,
    env: Environment,
    *,
    after: int,
    out: TextIO,
    wait: flink.Waiting | None = None,
) -> int:
    config = env.config
    name, region, database = config.flink.application_name, config.region, config.catalog.database_name
    detail = flink.describe(kda, name, region)
    if detail["ApplicationStatus"] != "READY":
        raise OpsError(
            f"{name} is {detail['ApplicationStatus']}: a start after a snapshot starts without state; stop the "
            f"application first (`python -m ops stop --env {config.name} --wait`)"
        )
    groups, settings = with_start_after(job_property_groups(detail), after)
    where = first_after(_load(catalog, database, settings.source_table), after)
    flink.update_properties(kda, name, region, version=detail["ApplicationVersionId"], groups=groups)
    out.write(
        f"set {job.KEY_SOURCE_STARTING_STRATEGY}={job.AFTER_SNAPSHOT_STRATEGY}, {job.KEY_SOURCE_START_SNAPSHOT_ID}="
        f"{after} on {name} (application version {detail['ApplicationVersionId']} -> next)\n  {where}\n"
    )
    flink.start_without_state(kda, name, region)
    out.write(
        f"starting {name} without state, after snapshot {after}; later starts restore from its snapshots and "
        f"ignore this position, but the job still checks it: once it has taken a snapshot, set "
        f"{job.KEY_SOURCE_STARTING_STRATEGY} back to {job.DEFAULT_STARTING_STRATEGY} in the application's "
        f"properties, or a start after snapshot {after} expired is refused\n"
    )
    if wait is None:
        return 0
    return flink._wait_for(kda, name, region, "RUNNING", wait, out)
