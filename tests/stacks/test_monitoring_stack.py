"""Alarms, topic and dashboard of the monitoring stack; thresholds derived from the config."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from tests.conftest import Synthesis
from unilake_config import flink_metrics as names

# (env, checkpoint interval in the env file) -> the 50% rule's threshold in ms
UNDER_PROVISIONED = [("prod", 20, 10_000), ("staging", 30, 15_000), ("dev", 30, 15_000)]


def _alarms(synthesis: Synthesis, env: str) -> dict[str, dict]:  # type: ignore[type-arg]
    template = synthesis.template_json(env, "monitoring")
    return {
        r["Properties"]["AlarmName"].removeprefix(f"unilake-{env}-"): r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }


@pytest.mark.parametrize(("env", "interval_s", "threshold_ms"), UNDER_PROVISIONED)
def test_checkpoint_duration_alarm_is_half_the_configured_interval(
    synthesis: Synthesis, env: str, interval_s: int, threshold_ms: int
) -> None:
    config = synthesis.stages[env].config
    assert config.flink.checkpoint_interval == interval_s
    alarm = _alarms(synthesis, env)["checkpoint-duration"]
    assert alarm["MetricName"] == names.LAST_CHECKPOINT_DURATION
    assert alarm["Namespace"] == "AWS/KinesisAnalytics"
    assert alarm["Dimensions"] == [{"Name": "Application", "Value": f"unilake-{env}"}]
    assert alarm["Threshold"] == threshold_ms == config.flink.checkpoint_interval * 1000 * 0.5
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_the_recommended_alarms_exist_with_their_thresholds(synthesis: Synthesis) -> None:
    alarms = _alarms(synthesis, "prod")
    assert set(alarms) == {
        "downtime",
        "full-restarts",
        "failed-checkpoints",
        "checkpoint-duration",
        "checkpoint-size",
        "heap",
        "cpu",
        "records-out-stalled",
        "quarantined-share",
        "skipped-snapshots",
        "no-checkpoint-reported",
    }
    assert alarms["downtime"]["MetricName"] == "downtime"
    assert alarms["downtime"]["Threshold"] == 0
    assert alarms["checkpoint-size"]["Threshold"] == 2048 * 1024 * 1024  # prod: max_checkpoint_size_mb 2048
    assert alarms["heap"]["Threshold"] == 90
    assert alarms["cpu"]["Threshold"] == 80
    for rising in ("full-restarts", "failed-checkpoints"):
        (expression, counter) = sorted(alarms[rising]["Metrics"], key=lambda m: "Expression" not in m)
        assert expression["Expression"] == "RATE(m)"
        metric_name = counter["MetricStat"]["Metric"]["MetricName"]
        assert (
            metric_name == {"full-restarts": "fullRestarts", "failed-checkpoints": "numberOfFailedCheckpoints"}[rising]
        )
    stalled = alarms["records-out-stalled"]["Metrics"]
    assert any(m.get("Expression") == "IF(rin > 0 AND rout <= 0, 1, 0)" for m in stalled)
    assert {m["MetricStat"]["Metric"]["MetricName"] for m in stalled if "MetricStat" in m} == {
        "numRecordsInPerSecond",
        "numRecordsOutPerSecond",
    }
    assert alarms["no-checkpoint-reported"]["TreatMissingData"] == "breaching"


def test_every_alarm_notifies_the_encrypted_topic(synthesis: Synthesis) -> None:
    template = synthesis.template("prod", "monitoring")
    template.has_resource_properties(
        "AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": [Match.string_like_regexp("TopicKey"), "Arn"]}}
    )
    template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "data-platform-oncall@example.com"}
    )
    topic_ref = next(iter(template.find_resources("AWS::SNS::Topic")))
    for alarm in _alarms(synthesis, "prod").values():
        assert alarm["AlarmActions"] == [{"Ref": topic_ref}]
    template.has_resource_properties(
        "AWS::CloudWatch::CompositeAlarm",
        {"AlarmName": "unilake-prod-not-committing", "AlarmActions": [{"Ref": topic_ref}]},
    )


def test_dashboard_publishes_the_freshness_and_quiet_period_bounds_per_source_table(synthesis: Synthesis) -> None:
    template = synthesis.template_json("prod", "monitoring")
    (dashboard,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    # prod: transactions polled every 10 s (registry override), checkpoints every 20 s -> 30 s; in a quiet
    # period the newest windows: idle timeout 5 min (the registry's default) + 60 s window + 20 s -> 380 s.
    assert "| `transactions` | 30 s | 380 s |" in body
    assert names.freshness_bound_seconds(10, 20) == 30
    assert (
        names.quiet_close_bound_seconds(
            idle_timeout_seconds=300, window_seconds=60, monitor_interval_seconds=10, checkpoint_interval_seconds=20
        )
        == 380
    )


def test_quiet_close_bound_counts_the_longer_of_window_and_poll_and_is_none_without_a_timeout() -> None:
    bound = names.quiet_close_bound_seconds
    assert (
        bound(idle_timeout_seconds=120, window_seconds=60, monitor_interval_seconds=90, checkpoint_interval_seconds=30)
        == 240
    )
    assert (
        bound(idle_timeout_seconds=0, window_seconds=60, monitor_interval_seconds=30, checkpoint_interval_seconds=30)
        is None
    )


@pytest.mark.parametrize("env", ["prod", "staging", "dev"])
def test_skipped_snapshots_alarm_fires_on_the_first_one(synthesis: Synthesis, env: str) -> None:
    """The job's gauge of overwrite/delete snapshots committed while it runs (flink_app/unilake_job/
    metric_names.py, unilake.flink.SkippedSnapshots): one is already a change that never reaches the sinks."""
    alarm = _alarms(synthesis, env)["skipped-snapshots"]
    assert alarm["MetricName"] == "skippedSourceSnapshots" == names.SKIPPED_SNAPSHOTS
    assert alarm["Dimensions"] == [{"Name": "Application", "Value": f"unilake-{env}"}]
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Maximum", 60, 1)
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["TreatMissingData"] == "notBreaching"
    assert "backfill" in alarm["AlarmDescription"]


@pytest.mark.parametrize(("env", "percent"), [("prod", 2), ("staging", 5), ("dev", 5)])
def test_quarantined_share_alarm_uses_the_jobs_metrics_and_the_env_threshold(
    synthesis: Synthesis, env: str, percent: float
) -> None:
    """Percent quarantined of the records accounted for, from the job's per-reason quarantine meters and its
    aggregated-records meter (flink_app/unilake_job/metric_names.py), above the environment file's threshold
    for 5 minutes."""
    assert synthesis.stages[env].config.monitoring.max_quarantined_percent == percent
    alarm = _alarms(synthesis, env)["quarantined-share"]
    assert alarm["Threshold"] == percent
    assert alarm["EvaluationPeriods"] == 5
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    by_id = {m["Id"]: m for m in alarm["Metrics"]}
    share = next(m for m in alarm["Metrics"] if m.get("ReturnData", True))
    assert share["Expression"] == "IF(q + FILL(a, 0) > 0, 100 * q / (q + FILL(a, 0)), 0)"
    assert by_id["q"]["Expression"] == " + ".join(f"FILL(q{i}, 0)" for i in range(len(names.REASONS)))
    reasons = {}
    for i in range(len(names.REASONS)):
        metric = by_id[f"q{i}"]["MetricStat"]["Metric"]
        assert metric["MetricName"] == "quarantinedRecordsPerSecond"
        dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
        assert dimensions["Application"] == f"unilake-{env}"
        reasons[dimensions["QuarantineReason"]] = by_id[f"q{i}"]["MetricStat"]["Stat"]
    assert reasons == dict.fromkeys(
        ("MALFORMED", "MISSING_FIELD", "BAD_EVENT_TIME", "BAD_QUANTITY", "BAD_PRICE", "LATE"), "Sum"
    )
    aggregated = by_id["a"]["MetricStat"]
    assert aggregated["Metric"]["MetricName"] == "aggregatedRecordsPerSecond"
    assert aggregated["Stat"] == "Sum"


def test_dashboard_shows_the_quarantined_share_and_reasons(synthesis: Synthesis) -> None:
    template = synthesis.template_json("prod", "monitoring")
    (dashboard,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert "Quarantined share (%) of the records accounted for" in body
    assert "IF(q + FILL(a, 0) > 0, 100 * q / (q + FILL(a, 0)), 0)" in body
    assert "alarm above" in body
    assert "Quarantined records per second, by reason" in body
    assert "Source snapshots skipped (overwrite, delete) since the job started" in body
