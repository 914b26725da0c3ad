"""FlinkMonitoring: an encrypted alarm topic, AWS's recommended alarms on the app's metrics, a dashboard."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest

from cdk_constructs.flink_monitoring import FlinkMonitoring, SourceBounds, Thresholds
from tests.cdk_constructs.construct_support import new_stack, resources
from unilake_config import flink_metrics

THRESHOLDS = Thresholds(
    checkpoint_interval_seconds=30,
    max_checkpoint_size_bytes=1 << 30,
    max_heap_percent=90,
    max_cpu_percent=80,
    max_quarantined_percent=5,
)


@pytest.fixture(scope="module")
def template() -> dict[str, dict[str, Any]]:
    stack = new_stack()
    FlinkMonitoring(
        stack,
        "Monitoring",
        application_name="app",
        thresholds=THRESHOLDS,
        source_bounds={
            "transactions": SourceBounds(freshness_seconds=60, quiet_close_seconds=400),
            "returns": SourceBounds(freshness_seconds=90, quiet_close_seconds=None),
        },
        alarm_emails=("ops@example.com",),
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    return resources(stack)


def of_type(template: dict[str, dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in template.values() if r["Type"] == kind]


def test_the_topic_is_encrypted_with_a_key_cloudwatch_of_this_account_may_use(
    template: dict[str, dict[str, Any]],
) -> None:
    (topic,) = of_type(template, "AWS::SNS::Topic")
    (key_id,) = [k for k, r in template.items() if r["Type"] == "AWS::KMS::Key"]
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    statements = template[key_id]["Properties"]["KeyPolicy"]["Statement"]
    (alarms,) = [s for s in statements if s.get("Sid") == "AllowCloudWatchAlarmsOfThisAccount"]
    assert alarms["Condition"] == {"StringEquals": {"aws:SourceAccount": "111111111111"}}
    assert template[key_id]["DeletionPolicy"] == "Delete"  # the caller's removal policy
    (subscription,) = of_type(template, "AWS::SNS::Subscription")
    assert subscription["Properties"]["Endpoint"] == "ops@example.com"


def test_every_alarm_watches_this_application_and_notifies_the_topic(template: dict[str, dict[str, Any]]) -> None:
    alarms = of_type(template, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 9
    (topic_id,) = [k for k, r in template.items() if r["Type"] == "AWS::SNS::Topic"]
    for alarm in alarms:
        properties = alarm["Properties"]
        assert properties["AlarmActions"] == [{"Ref": topic_id}]
        assert properties["OKActions"] == [{"Ref": topic_id}]
        metrics = [properties] if "MetricName" in properties else [m["MetricStat"]["Metric"] for m in
                   properties["Metrics"] if "MetricStat" in m]  # fmt: skip
        for metric in metrics:
            assert metric["Namespace"] == flink_metrics.NAMESPACE
            # the application first; the job's own meters add their group's variable (the quarantine reason)
            assert metric["Dimensions"][0] == {"Name": flink_metrics.APPLICATION_DIMENSION, "Value": "app"}
            assert len(metric["Dimensions"]) <= 2


def test_checkpoint_duration_alarm_is_derived_from_the_interval(template: dict[str, dict[str, Any]]) -> None:
    (duration,) = [
        a["Properties"]
        for a in of_type(template, "AWS::CloudWatch::Alarm")
        if a["Properties"]["AlarmName"] == "app-checkpoint-duration"
    ]
    assert duration["MetricName"] == flink_metrics.LAST_CHECKPOINT_DURATION
    assert duration["Threshold"] == flink_metrics.under_provisioned_checkpoint_ms(30) == 15_000


def test_not_committing_combines_downtime_failed_and_missing_checkpoints(template: dict[str, dict[str, Any]]) -> None:
    (composite,) = of_type(template, "AWS::CloudWatch::CompositeAlarm")
    assert composite["Properties"]["AlarmName"] == "app-not-committing"
    assert str(composite["Properties"]["AlarmRule"]).count("ALARM(") == 3
    (dashboard,) = of_type(template, "AWS::CloudWatch::Dashboard")
    assert dashboard["Properties"]["DashboardName"] == "app"


def test_dashboard_text_gives_each_source_its_bounds(template: dict[str, dict[str, Any]]) -> None:
    (dashboard,) = of_type(template, "AWS::CloudWatch::Dashboard")
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert "| `returns` | 90 s | next commit |" in body
    assert "| `transactions` | 60 s | 400 s |" in body
