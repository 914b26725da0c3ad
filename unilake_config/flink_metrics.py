"""The names of the Managed Flink CloudWatch metrics unilake alarms on and reads: defined once.

Namespace ``AWS/KinesisAnalytics``, dimension ``Application`` (AWS: "Metrics and dimensions in Managed
Service for Apache Flink"; names as published for Flink 1.20 — Flink 2.2 drops ``fullRestarts`` for
``numRestarts`` and deprecates ``uptime``/``downtime``).
"""

from __future__ import annotations

from typing import Final

from flink_app.unilake_job import metric_names as job_metrics
from flink_app.unilake_job.schemas import REASONS as QUARANTINE_REASONS

NAMESPACE: Final = "AWS/KinesisAnalytics"
APPLICATION_DIMENSION: Final = "Application"

DOWNTIME: Final = "downtime"
UPTIME: Final = "uptime"
FULL_RESTARTS: Final = "fullRestarts"
FAILED_CHECKPOINTS: Final = "numberOfFailedCheckpoints"
LAST_CHECKPOINT_DURATION: Final = "lastCheckpointDuration"
LAST_CHECKPOINT_SIZE: Final = "lastCheckpointSize"
HEAP_MEMORY_UTILIZATION: Final = "heapMemoryUtilization"
CPU_UTILIZATION: Final = "cpuUtilization"
RECORDS_IN_PER_SECOND: Final = "numRecordsInPerSecond"
RECORDS_OUT_PER_SECOND: Final = "numRecordsOutPerSecond"
KPUS: Final = "KPUs"

# The job's own metrics (flink_app/unilake_job/metric_names.py), forwarded by Managed Flink from the
# kinesisanalytics metric group; a quarantine reason is the dimension REASON_DIMENSION.
QUARANTINED_PER_SECOND: Final = job_metrics.QUARANTINED_PER_SECOND
AGGREGATED_PER_SECOND: Final = job_metrics.AGGREGATED_PER_SECOND
REASON_DIMENSION: Final = job_metrics.REASON_DIMENSION
REASONS: Final = QUARANTINE_REASONS
#: Overwrite/delete snapshots of the source table committed while the job runs (a gauge): the streaming
#: source skips them, so their changes never reach the sinks.
SKIPPED_SNAPSHOTS: Final = job_metrics.SKIPPED_SNAPSHOTS

# A checkpoint that takes longer than this share of the checkpoint interval is the leading sign that
# the job needs more KPUs or parallelism (AWS guidance for moderate volumes).
UNDER_PROVISIONED_CHECKPOINT_RATIO: Final = 0.5


def under_provisioned_checkpoint_ms(checkpoint_interval_seconds: int) -> int:
    """The lastCheckpointDuration (ms) above which the job is under-provisioned: 50 % of the interval."""
    return int(checkpoint_interval_seconds * 1000 * UNDER_PROVISIONED_CHECKPOINT_RATIO)


def freshness_bound_seconds(monitor_interval_seconds: int, checkpoint_interval_seconds: int) -> int:
    """How late data landed in a source table can be visible in the sinks, at most: one poll of the
    source (monitor-interval) plus one checkpoint, when the sink commits."""
    return monitor_interval_seconds + checkpoint_interval_seconds


def quiet_close_bound_seconds(
    *, idle_timeout_seconds: int, window_seconds: int, monitor_interval_seconds: int, checkpoint_interval_seconds: int
) -> int | None:
    """How long after the last commit before a quiet period its windows are in the sinks, at most: the quiet
    is counted from the commit's read (up to one monitor interval after it) and the watermark then follows the
    clock one idle timeout behind, so the newest window (ending up to one window after the commit) closes by
    idle timeout + the longer of window and monitor interval; then one checkpoint commits it. None when the idle
    timeout is 0: the newest windows wait for the next commit."""
    if idle_timeout_seconds == 0:
        return None
    return idle_timeout_seconds + max(window_seconds, monitor_interval_seconds) + checkpoint_interval_seconds
