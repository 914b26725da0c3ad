"""FlinkMonitoring: the alarm topic, a dashboard and the alarms AWS recommends for one Flink 1.20 application.

Built on aws-cdk-lib's CloudWatch L2. cdk-monitoring-constructs was evaluated: its Kinesis Data Analytics
monitoring covers downtime, full restarts and failed checkpoints, but not checkpoint duration/size, heap,
CPU, the records-out-stalled alarm or the freshness bound, so most alarms would be hand-written anyway,
beside another jsii library to pin and load on every synth.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from unilake_config import flink_metrics as names

ONE_MINUTE = Duration.minutes(1)


@dataclass(frozen=True)
class Thresholds:
    """Alarm thresholds; the checkpoint-duration one is derived from the checkpoint interval, never typed."""

    checkpoint_interval_seconds: int
    max_checkpoint_size_bytes: int
    max_heap_percent: int
    max_cpu_percent: int
    max_quarantined_percent: float

    @property
    def max_checkpoint_duration_ms(self) -> int:
        return names.under_provisioned_checkpoint_ms(self.checkpoint_interval_seconds)


@dataclass(frozen=True)
class SourceBounds:
    """How soon a source table's data reaches the sinks (flink_metrics.freshness_bound_seconds and
    quiet_close_bound_seconds): while commits keep coming, and for the newest windows before a quiet period
    (None: they wait for the next commit)."""

    freshness_seconds: int
    quiet_close_seconds: int | None


class FlinkMonitoring(Construct):
    """Every created resource is a public attribute; ``alarms`` is keyed by a short name."""

    topic_key: kms.Key
    topic: sns.Topic
    dashboard: cloudwatch.Dashboard
    alarms: dict[str, cloudwatch.Alarm]
    not_committing: cloudwatch.CompositeAlarm

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        application_name: str,
        thresholds: Thresholds,
        source_bounds: Mapping[str, SourceBounds],
        alarm_emails: Sequence[str] = (),
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    ) -> None:
        """``source_bounds``: per source table, the seconds within which new data reaches the sinks."""
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.application_name = application_name

        self.topic_key = kms.Key(
            self,
            "TopicKey",
            description=f"Encrypts the alarm topic of {application_name}",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        # CloudWatch alarms publish to an encrypted topic only when the key lets them (AWS SNS guide,
        # "Configure KMS permissions for AWS services"); limited to this account's alarms.
        self.topic_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsOfThisAccount",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy "*" means "this key"
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name=f"unilake alarms: {application_name}",
            master_key=self.topic_key,
            enforce_ssl=True,
        )
        # The topic policy (TLS only) replaces SNS's default policy, so CloudWatch alarms must be allowed
        # explicitly, for this account's alarms only (CloudWatch user guide "Using Amazon CloudWatch alarms";
        # SNS developer guide "Configure KMS permissions for AWS services").
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsOfThisAccount",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": stack.format_arn(service="cloudwatch", resource="alarm:*")},
                },
            )
        )
        for email in alarm_emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))

        self.alarms = self._alarms(thresholds)
        self.not_committing = cloudwatch.CompositeAlarm(
            self,
            "NotCommitting",
            composite_alarm_name=f"{application_name}-not-committing",
            alarm_description=(
                f"{application_name} commits to its Iceberg sinks only at successful checkpoints: it is down, its "
                "checkpoints fail, or no checkpoint has been reported. Data stops being fresh."
            ),
            alarm_rule=cloudwatch.AlarmRule.any_of(
                self.alarms["downtime"], self.alarms["failed-checkpoints"], self.alarms["no-checkpoint-reported"]
            ),
        )
        self.not_committing.add_alarm_action(actions.SnsAction(self.topic))
        for alarm in self.alarms.values():
            alarm.add_alarm_action(actions.SnsAction(self.topic))
            alarm.add_ok_action(actions.SnsAction(self.topic))

        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{application_name}",
            default_interval=Duration.hours(3),
        )
        self._widgets(thresholds, source_bounds)

    def metric(self, name: str, statistic: str = "Maximum", period: Duration = ONE_MINUTE) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=names.NAMESPACE,
            metric_name=name,
            dimensions_map={names.APPLICATION_DIMENSION: self.application_name},
            statistic=statistic,
            period=period,
        )

    def _alarm(
        self,
        key: str,
        metric: cloudwatch.Metric | cloudwatch.MathExpression,
        *,
        threshold: float,
        description: str,
        periods: int = 1,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) -> cloudwatch.Alarm:
        return metric.create_alarm(
            self,
            f"Alarm-{key}",
            alarm_name=f"{self.application_name}-{key}",
            alarm_description=description,
            threshold=threshold,
            evaluation_periods=periods,
            comparison_operator=comparison,
            treat_missing_data=missing,
        )

    def quarantined_share(self) -> cloudwatch.MathExpression:
        """Percent of the records the job accounted for that it quarantined: the per-reason quarantine rates
        over those plus the aggregated (deduplicated valid) rate, all from the job's own meters. The same
        statistic on both sides, so the share does not depend on how many samples the service sends."""
        reasons = {f"q{i}": reason for i, reason in enumerate(names.REASONS)}
        using: dict[str, cloudwatch.IMetric] = {
            key: cloudwatch.Metric(
                namespace=names.NAMESPACE,
                metric_name=names.QUARANTINED_PER_SECOND,
                dimensions_map={names.APPLICATION_DIMENSION: self.application_name, names.REASON_DIMENSION: reason},
                statistic="Sum",
                period=ONE_MINUTE,
            )
            for key, reason in reasons.items()
        }
        quarantined = cloudwatch.MathExpression(
            expression=" + ".join(f"FILL({key}, 0)" for key in reasons),
            using_metrics=using,
            label="quarantined per second",
            period=ONE_MINUTE,
        )
        return cloudwatch.MathExpression(
            expression="IF(q + FILL(a, 0) > 0, 100 * q / (q + FILL(a, 0)), 0)",
            using_metrics={"q": quarantined, "a": self.metric(names.AGGREGATED_PER_SECOND, "Sum")},
            label="quarantined share (%)",
            period=ONE_MINUTE,
        )

    def _rate(self, metric_name: str, label: str) -> cloudwatch.MathExpression:
        """How much a cumulative counter rose per second (RATE), so an old count does not keep alarming."""
        return cloudwatch.MathExpression(
            expression="RATE(m)", using_metrics={"m": self.metric(metric_name)}, label=label, period=ONE_MINUTE
        )

    def _alarms(self, thresholds: Thresholds) -> dict[str, cloudwatch.Alarm]:
        duration_ms = thresholds.max_checkpoint_duration_ms
        return {
            "downtime": self._alarm(
                "downtime",
                self.metric(names.DOWNTIME),
                threshold=0,
                description="The job is not running (downtime > 0): it is restarting or failed.",
            ),
            "full-restarts": self._alarm(
                "full-restarts",
                self._rate(names.FULL_RESTARTS, "full restarts per second"),
                threshold=0,
                description="The job restarted (fullRestarts rising): look for a poison record or an exception.",
            ),
            "failed-checkpoints": self._alarm(
                "failed-checkpoints",
                self._rate(names.FAILED_CHECKPOINTS, "failed checkpoints per second"),
                threshold=0,
                description="Checkpoints are failing (numberOfFailedCheckpoints rising): no commit to the sinks.",
            ),
            "checkpoint-duration": self._alarm(
                "checkpoint-duration",
                self.metric(names.LAST_CHECKPOINT_DURATION),
                threshold=duration_ms,
                periods=3,
                description=(
                    f"Checkpoints take longer than 50% of the {thresholds.checkpoint_interval_seconds}s interval "
                    f"(> {duration_ms} ms): the job is under-provisioned; add KPUs or parallelism."
                ),
            ),
            "checkpoint-size": self._alarm(
                "checkpoint-size",
                self.metric(names.LAST_CHECKPOINT_SIZE),
                threshold=thresholds.max_checkpoint_size_bytes,
                periods=3,
                description="Checkpoint state is larger than expected: state may be growing without bound.",
            ),
            "heap": self._alarm(
                "heap",
                self.metric(names.HEAP_MEMORY_UTILIZATION),
                threshold=thresholds.max_heap_percent,
                periods=5,
                description=f"Heap above {thresholds.max_heap_percent}% for 5 minutes.",
            ),
            "cpu": self._alarm(
                "cpu",
                self.metric(names.CPU_UTILIZATION),
                threshold=thresholds.max_cpu_percent,
                periods=5,
                description=f"CPU above {thresholds.max_cpu_percent}% for 5 minutes.",
            ),
            "records-out-stalled": self._alarm(
                "records-out-stalled",
                cloudwatch.MathExpression(
                    expression="IF(rin > 0 AND rout <= 0, 1, 0)",
                    using_metrics={
                        "rin": self.metric(names.RECORDS_IN_PER_SECOND, "Average"),
                        "rout": self.metric(names.RECORDS_OUT_PER_SECOND, "Average"),
                    },
                    label="records arrive but none leave",
                    period=ONE_MINUTE,
                ),
                threshold=0,
                periods=5,
                description="Records arrive but none are emitted for 5 minutes.",
            ),
            "quarantined-share": self._alarm(
                "quarantined-share",
                self.quarantined_share(),
                threshold=thresholds.max_quarantined_percent,
                periods=5,
                description=(
                    f"More than {thresholds.max_quarantined_percent:g}% of the records are quarantined for 5 "
                    "minutes (LATE, bad fields): they reach no aggregate. See the quarantine table's reasons."
                ),
            ),
            "skipped-snapshots": self._alarm(
                "skipped-snapshots",
                self.metric(names.SKIPPED_SNAPSHOTS),
                threshold=0,
                description=(
                    "The source table holds overwrite or delete snapshots committed while the job runs: the "
                    "streaming source reads appends only, so their changes never reach the sinks (the job's log "
                    "names each snapshot). Producer contract: flink_app/README.md. Recompute the days they touch "
                    "with a backfill; the job refuses to start again until they are expired."
                ),
            ),
            "no-checkpoint-reported": self._alarm(
                "no-checkpoint-reported",
                self.metric(names.LAST_CHECKPOINT_DURATION, "SampleCount", Duration.minutes(5)),
                threshold=1,
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                missing=cloudwatch.TreatMissingData.BREACHING,
                description="No checkpoint metric for 5 minutes: the job is not running its checkpoints.",
            ),
        }

    def _widgets(self, thresholds: Thresholds, source_bounds: Mapping[str, SourceBounds]) -> None:
        bounds = "\n".join(
            f"| `{table}` | {bound.freshness_seconds} s | "
            + (f"{bound.quiet_close_seconds} s" if bound.quiet_close_seconds is not None else "next commit")
            + " |"
            for table, bound in sorted(source_bounds.items())
        )
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=(
                    f"# {self.application_name}\n"
                    "Freshness bound: new data in a source table is visible in the sinks at most one "
                    "monitor-interval plus one checkpoint interval after it lands (windows its newer data has "
                    "passed). Before a quiet period, the newest windows follow within the idle timeout plus the "
                    "longer of window and monitor interval plus one checkpoint of the last commit.\n\n"
                    "| source table | freshness bound | newest windows, quiet period |\n|---|---|---|\n" + bounds
                ),
                width=24,
                height=6,
            ),
            cloudwatch.AlarmStatusWidget(
                title="Alarms", alarms=[*self.alarms.values(), self.not_committing], width=24, height=3
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Checkpoint duration (ms) vs 50% of the interval",
                left=[self.metric(names.LAST_CHECKPOINT_DURATION)],
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(
                        value=thresholds.max_checkpoint_duration_ms, label="under-provisioned above"
                    )
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Checkpoint size (bytes)", left=[self.metric(names.LAST_CHECKPOINT_SIZE)], width=12
            ),
            cloudwatch.GraphWidget(
                title="Records in / out per second",
                left=[
                    self.metric(names.RECORDS_IN_PER_SECOND, "Average"),
                    self.metric(names.RECORDS_OUT_PER_SECOND, "Average"),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Heap and CPU (%)",
                left=[self.metric(names.HEAP_MEMORY_UTILIZATION), self.metric(names.CPU_UTILIZATION)],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Downtime, restarts, failed checkpoints",
                left=[
                    self.metric(names.DOWNTIME),
                    self.metric(names.FULL_RESTARTS),
                    self.metric(names.FAILED_CHECKPOINTS),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(title="KPUs", left=[self.metric(names.KPUS, "Average")], width=12),
            cloudwatch.GraphWidget(
                title="Quarantined share (%) of the records accounted for",
                left=[self.quarantined_share()],
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(value=thresholds.max_quarantined_percent, label="alarm above")
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Source snapshots skipped (overwrite, delete) since the job started",
                left=[self.metric(names.SKIPPED_SNAPSHOTS)],
                left_annotations=[cloudwatch.HorizontalAnnotation(value=0, label="alarm above")],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Quarantined records per second, by reason",
                left=[
                    cloudwatch.Metric(
                        namespace=names.NAMESPACE,
                        metric_name=names.QUARANTINED_PER_SECOND,
                        dimensions_map={
                            names.APPLICATION_DIMENSION: self.application_name,
                            names.REASON_DIMENSION: reason,
                        },
                        statistic="Sum",
                        period=ONE_MINUTE,
                        label=reason,
                    )
                    for reason in names.REASONS
                ],
                width=12,
            ),
        )
