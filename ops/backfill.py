"""``python -m ops backfill``: recompute whole event-time days on the environment's backfill application.

The contract, the same in the job's settings, this command and the docs: a backfill of days FROM..TO reads
every record of those UTC days in ``transactions`` *up to and including* snapshot B (``--up-to-snapshot``;
by default the current snapshot, pinned when the command starts so that a retry reads the same records) and
replaces those days in ``sales_per_minute`` and ``fraud_alerts`` (INSERT OVERWRITE: Iceberg replaces the
day partitions the job writes). Running it twice leaves the sinks as running it once.

Steps, each printed:

1. refuse unless the backfill application is READY (another backfill is running or being set up otherwise);
2. pin B and record the sinks' current snapshots;
3. ``UpdateApplication`` of the job's property group: the days and B (the optimistic lock on the
   application version makes a concurrent ``ops backfill`` fail here, not run twice);
4. ``StartApplication`` (no snapshot to restore), wait for RUNNING;
5. follow the Flink job through the application's Flink dashboard (``CreateApplicationPresignedUrl``,
   then the dashboard's REST ``jobs/overview``) until it is FINISHED or FAILED, printing its tasks and each
   sink commit as it lands;
6. ``StopApplication``: a finished bounded job leaves the application RUNNING, and billed, until stopped
   (cdk_constructs/backfill_application.py); wait for READY;
7. report, per sink, the rows the backfill wrote and the rows it replaced (Iceberg snapshot summaries).
"""

from __future__ import annotations

import http.cookiejar
import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol, TextIO

from pyiceberg.catalog import Catalog
from pyiceberg.table import Table

from flink_app.unilake_job import properties as job
from unilake_config import Environment

from . import flink
from .errors import OpsError
from .lake import _load, _when_ms

#: The sinks a backfill overwrites, as the job's settings name them.
SINK_KEYS = job.BACKFILL_SINK_KEYS
#: The Flink job's name (flink_app/unilake_job/job.py: pipeline.name).
JOB_NAME = "unilake-msf-batch"
JOB_DONE = "FINISHED"
JOB_FAILED = ("FAILED", "CANCELED")
OVERWRITE = "overwrite"


class JobWatcher(Protocol):
    """The Flink job of a running application: ``(state, tasks finished, tasks total)`` or None before it
    was submitted."""

    def __call__(self) -> tuple[str, int, int] | None: ...


@dataclass
class DashboardJobs:
    """Reads the backfill job's state from the application's Flink dashboard (its REST API, ``jobs/overview``).

    ``CreateApplicationPresignedUrl`` returns a URL that opens a dashboard session (a cookie, valid for the
    session duration asked for); the REST calls go to the dashboard's base URL with that cookie. A new URL is
    asked for whenever the session is refused. The shape of the URL is AWS's: only the REST paths are Flink's.
    """

    kda: Any
    name: str
    region: str
    timeout: float = 30.0
    _opener: urllib.request.OpenerDirector | None = field(default=None, init=False, repr=False)
    _base: str = field(default="", init=False, repr=False)

    def _open_session(self) -> None:
        response = flink._call(
            self.kda,
            "create_application_presigned_url",
            self.name,
            self.region,
            ApplicationName=self.name,
            UrlType="FLINK_DASHBOARD_URL",
            SessionExpirationDurationInSeconds=1800,
        )
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        with opener.open(response["AuthorizedUrl"], timeout=self.timeout) as landing:
            final = urllib.parse.urlsplit(landing.geturl())
        path = final.path if final.path.endswith("/") else final.path.rsplit("/", 1)[0] + "/"
        self._opener, self._base = opener, urllib.parse.urlunsplit((final.scheme, final.netloc, path, "", ""))

    def _overview(self) -> dict[str, Any]:
        for attempt in (1, 2):
            if self._opener is None:
                self._open_session()
            assert self._opener is not None
            try:
                with self._opener.open(urllib.parse.urljoin(self._base, "jobs/overview"), timeout=self.timeout) as r:
                    document: dict[str, Any] = json.loads(r.read().decode("utf-8"))
                    return document
            except (OSError, ValueError):
                self._opener = None  # an expired session: ask for a new URL once
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def __call__(self) -> tuple[str, int, int] | None:
        jobs = [j for j in self._overview().get("jobs", []) if j.get("name") == JOB_NAME]
        if not jobs:
            return None
        newest = max(jobs, key=lambda j: int(j.get("start-time", 0)))
        tasks = newest.get("tasks", {})
        return str(newest.get("state")), int(tasks.get("finished", 0)), int(tasks.get("total", 0))


@dataclass(frozen=True)
class Following:
    """How the command polls; injectable so tests do not wait."""

    timeout: float = 4 * 3600.0
    poll: float = 15.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


def parse_day(text: str, flag: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise OpsError(f"{flag}: expected a UTC day as YYYY-MM-DD (got {text!r})") from None


def check_days(first: date, last: date, *, today: date | None = None) -> None:
    """The days a backfill may replace: in order, and before today (UTC)."""
    if last < first:
        raise OpsError(f"--to {last} is before --from {first}")
    today = today or datetime.now(UTC).date()
    if last >= today:
        raise OpsError(
            f"--to {last}: only days before today ({today}, UTC) can be backfilled: the stream still writes "
            "today's windows, and an overwrite would replace the rows it commits meanwhile"
        )


def job_property_groups(detail: dict[str, Any]) -> list[dict[str, Any]]:
    """The application's property groups as deployed (DescribeApplication), in the file shape."""
    environment = detail.get("ApplicationConfigurationDescription", {}).get("EnvironmentPropertyDescriptions", {})
    return [
        {"PropertyGroupId": group["PropertyGroupId"], "PropertyMap": dict(group.get("PropertyMap", {}))}
        for group in environment.get("PropertyGroupDescriptions", [])
    ]


def with_job_properties(
    groups: list[dict[str, Any]], changes: dict[str, str], *, application: str
) -> tuple[list[dict[str, Any]], job.JobSettings]:
    """The property groups with ``changes`` set in the job's group, and the settings the job will parse from
    them: :class:`OpsError` (naming ``application``) if it would refuse them."""
    updated = []
    for group in groups:
        if group["PropertyGroupId"] == job.JOB_GROUP_ID:
            group = {"PropertyGroupId": job.JOB_GROUP_ID, "PropertyMap": {**group["PropertyMap"], **changes}}
        updated.append(group)
    try:
        return updated, job.parse_settings(updated)
    except job.SettingsError as error:
        raise OpsError(f"{application}'s settings would be refused by the job: {error}") from None


def with_range(
    groups: list[dict[str, Any]], *, first: date, last: date, up_to: int
) -> tuple[list[dict[str, Any]], job.JobSettings]:
    """The property groups with the backfill's days and snapshot set, and the settings the job parses from
    them (validated as the job will validate them)."""
    changes = {
        job.KEY_BACKFILL_FROM_DAY: first.isoformat(),
        job.KEY_BACKFILL_TO_DAY: last.isoformat(),
        job.KEY_SOURCE_END_SNAPSHOT_ID: str(up_to),
    }
    updated, settings = with_job_properties(groups, changes, application="the backfill application")
    if not settings.backfill_required or settings.mode != "batch":
        raise OpsError(
            f"property group {job.JOB_GROUP_ID!r} of this application is not a backfill application's "
            f"({job.KEY_BACKFILL_REQUIRED}=true, mode=batch): refusing to change it"
        )
    return updated, settings


def _commits_since(table: Table, before: int | None) -> list[Any]:
    """The backfill's commits on top of ``before`` (oldest first): its dynamic overwrites. The stream commits
    appends to the same tables meanwhile, and Glue's compaction replaces: neither is an overwrite."""
    table.refresh()
    found = []
    snapshot = table.current_snapshot()
    while snapshot is not None and snapshot.snapshot_id != before:
        if _summary(snapshot)[0] == OVERWRITE:
            found.append(snapshot)
        snapshot = table.snapshot_by_id(snapshot.parent_snapshot_id) if snapshot.parent_snapshot_id else None
    return list(reversed(found))


def _current_id(table: Table) -> int | None:
    snapshot = table.current_snapshot()
    return snapshot.snapshot_id if snapshot is not None else None


def _summary(snapshot: Any) -> tuple[str, int, int]:
    summary = snapshot.summary
    props = summary.additional_properties if summary is not None else {}
    operation = summary.operation.value if summary is not None else "unknown"
    return operation, int(props.get("added-records", 0)), int(props.get("deleted-records", 0))


def backfill(
    kda: Any,
    catalog: Catalog,
    env: Environment,
    *,
    first: date,
    last: date,
    up_to_snapshot: int | None,
    out: TextIO,
    jobs: JobWatcher | None = None,
    following: Following | None = None,
    today: date | None = None,
) -> int:
    config = env.config
    name, region, database = config.flink.backfill_application_name, config.region, config.catalog.database_name
    following = following or Following()
    jobs = jobs or DashboardJobs(kda, name, region)
    check_days(first, last, today=today)

    detail = flink.describe(kda, name, region)
    if detail["ApplicationStatus"] != "READY":
        raise OpsError(
            f"{name} is {detail['ApplicationStatus']}: another backfill is running or being set up "
            f"(wait for it, or stop it with `python -m ops backfill-stop --env {config.name}`)"
        )
    _, settings = with_range(job_property_groups(detail), first=first, last=last, up_to=0)
    source = _load(catalog, database, settings.source_table)
    current = source.current_snapshot()
    if current is None:
        raise OpsError(f"{database}.{settings.source_table} has no snapshot: nothing to backfill")
    up_to = up_to_snapshot if up_to_snapshot is not None else current.snapshot_id
    pinned = source.snapshot_by_id(up_to)
    if pinned is None:
        raise OpsError(f"--up-to-snapshot {up_to}: no such snapshot in {database}.{settings.source_table}")
    sink_names = [str(settings.to_property_map()[key]) for key in SINK_KEYS]
    sinks = {sink: _load(catalog, database, sink) for sink in sink_names}
    before = {sink: _current_id(table) for sink, table in sinks.items()}
    out.write(
        f"backfill {first}..{last} (UTC event days) of {database}.{settings.source_table} up to and including "
        f"snapshot {up_to} ({_when_ms(pinned.timestamp_ms)})\n"
        f"  replaces those days in {', '.join(sink_names)} (quarantine is not rewritten)\n"
    )

    groups, _ = with_range(job_property_groups(detail), first=first, last=last, up_to=up_to)
    flink.update_properties(kda, name, region, version=detail["ApplicationVersionId"], groups=groups)
    out.write(f"set the range on {name} (application version {detail['ApplicationVersionId']} -> next)\n")
    flink.start_without_state(kda, name, region)
    out.write(f"starting {name}\n")
    waiting = flink.Waiting(
        timeout=following.timeout, poll=following.poll, sleep=following.sleep, clock=following.clock
    )
    flink._wait_for(kda, name, region, "RUNNING", waiting, out)

    state = _follow(jobs, sinks, before, following, out)
    out.write(f"job {state}: stopping {name} (a finished job keeps the application running, and billed)\n")
    flink._call(kda, "stop_application", name, region, ApplicationName=name, Force=False)
    flink._wait_for(kda, name, region, "READY", waiting, out)
    if state != JOB_DONE:
        raise OpsError(
            f"the backfill job ended {state}: nothing was replaced by a failed run (Iceberg commits at the end of a "
            f"bounded job); see the log group /aws/kinesis-analytics/{name}, then run the same command again"
        )
    return _report(sinks, before, out)


def _follow(
    jobs: JobWatcher, sinks: dict[str, Table], before: dict[str, int | None], following: Following, out: TextIO
) -> str:
    started = following.clock()
    seen: dict[str, int] = dict.fromkeys(sinks, 0)
    last_line = ""
    while True:
        elapsed = following.clock() - started
        state = jobs()
        for sink, table in sinks.items():
            commits = _commits_since(table, before[sink])
            for snapshot in commits[seen[sink] :]:
                operation, added, deleted = _summary(snapshot)
                out.write(f"  {elapsed:5.0f}s  {sink}: {operation} committed, +{added} rows, -{deleted} rows\n")
            seen[sink] = len(commits)
        line = "job not submitted yet" if state is None else f"job {state[0]}, tasks {state[1]}/{state[2]} finished"
        if line != last_line:
            out.write(f"  {elapsed:5.0f}s  {line}\n")
            last_line = line
        if state is not None and (state[0] == JOB_DONE or state[0] in JOB_FAILED):
            return state[0]
        if elapsed >= following.timeout:
            raise OpsError(
                f"timed out after {following.timeout:.0f}s with the job {state[0] if state else 'not submitted'}; "
                "the application is still running (and billed): follow it in its Flink dashboard, or stop it"
            )
        following.sleep(following.poll)


def _report(sinks: dict[str, Table], before: dict[str, int | None], out: TextIO) -> int:
    out.write("rows per table:\n")
    for sink, table in sinks.items():
        commits = _commits_since(table, before[sink])
        added = sum(_summary(s)[1] for s in commits)
        deleted = sum(_summary(s)[2] for s in commits)
        if not commits:
            out.write(f"  {sink}: no commit (the days produced no row for it; what it held for them is unchanged)\n")
        else:
            out.write(f"  {sink}: {added} rows written, {deleted} rows replaced ({len(commits)} commit(s))\n")
    return 0


def stop(kda: Any, env: Environment, *, out: TextIO, err: TextIO) -> int:
    """``backfill-stop``: stop the backfill application (a run given up on, or a finished one left running)."""
    name = env.config.flink.backfill_application_name
    return flink.stop(kda, name=name, region=env.config.region, force=False, out=out, err=err, wait=flink.Waiting())
