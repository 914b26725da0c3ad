"""Names of the job's own Flink metrics: defined once, read by the job and by the CloudWatch alarms.

Pure Python (no pyflink): the infrastructure imports it. Managed Flink forwards to CloudWatch only the metrics
of a ``kinesisanalytics`` metric group; the groups below it become CloudWatch dimensions (aws-samples
amazon-managed-service-for-apache-flink-examples, java/CustomMetrics MetricEmittingMapperFunction.java; AWS
"Use custom metrics with Amazon Managed Service for Apache Flink").
"""

from __future__ import annotations

from typing import Final

#: The metric group Managed Flink forwards to CloudWatch (namespace AWS/KinesisAnalytics).
MSF_GROUP: Final = "kinesisanalytics"
#: Key of the group (CloudWatch dimension) that names the quarantine reason.
REASON_DIMENSION: Final = "QuarantineReason"
#: Records quarantined, per reason (a counter, cumulative since the job (re)started on that subtask).
QUARANTINED_RECORDS: Final = "quarantinedRecords"
#: Records quarantined per second, per reason (a meter, averaged over a minute).
QUARANTINED_PER_SECOND: Final = "quarantinedRecordsPerSecond"
#: Deduplicated valid records aggregated into the sales windows (a counter), and per second (a meter): with
#: the quarantined ones, every distinct record the job accounted for.
AGGREGATED_RECORDS: Final = "aggregatedRecords"
AGGREGATED_PER_SECOND: Final = "aggregatedRecordsPerSecond"
#: Seconds over which the meters average.
METER_SPAN_SECONDS: Final = 60

#: SQL names of the functions that count (msf profile; identity functions on the value they count).
QUARANTINED_FUNCTION: Final = "unilake_count_quarantined"
AGGREGATED_FUNCTION: Final = "unilake_count_aggregated"

#: Snapshots of the source table the streaming source skips (overwrite, delete: only appends are streamed),
#: committed since the job started (a gauge, unilake.flink.SkippedSnapshots in the dependency jar).
SKIPPED_SNAPSHOTS: Final = "skippedSourceSnapshots"
