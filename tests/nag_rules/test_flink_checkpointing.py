"""Unilake-FlinkCheckpoints: compliant and non-compliant KinesisAnalyticsV2 applications from L1 resources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kinesisanalyticsv2 as msf
from cdk_nag import NagRuleCompliance

from nag_rules.flink_checkpointing import flink_checkpointing
from nag_rules.pack import UnilakeChecks


def application(
    stack: cdk.Stack, configuration: dict[str, Any] | None, runtime: str = "FLINK-1_20"
) -> msf.CfnApplication:
    return msf.CfnApplication(
        stack,
        "App",
        runtime_environment=runtime,
        service_execution_role="arn:aws:iam::111111111111:role/r",
        application_configuration=configuration,
    )


def config(checkpoints: dict[str, Any] | None, snapshots: bool | None) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if checkpoints is not None:
        result["flinkApplicationConfiguration"] = {"checkpointConfiguration": checkpoints}
    if snapshots is not None:
        result["applicationSnapshotConfiguration"] = {"snapshotsEnabled": snapshots}
    return result


CUSTOM_ON = {"configurationType": "CUSTOM", "checkpointingEnabled": True, "checkpointInterval": 30000}
CUSTOM_OFF = {"configurationType": "CUSTOM", "checkpointingEnabled": False}

CASES = [
    ("compliant: custom checkpoints on, snapshots on", config(CUSTOM_ON, True), NagRuleCompliance.COMPLIANT),
    (
        "compliant: DEFAULT checkpoints, snapshots on",
        config({"configurationType": "DEFAULT"}, True),
        NagRuleCompliance.COMPLIANT,
    ),
    ("1: checkpointing disabled", config(CUSTOM_OFF, True), NagRuleCompliance.NON_COMPLIANT),
    ("2: snapshots disabled", config(CUSTOM_ON, False), NagRuleCompliance.NON_COMPLIANT),
    ("3: no snapshot configuration", config(CUSTOM_ON, None), NagRuleCompliance.NON_COMPLIANT),
    ("4: no checkpoint configuration", config(None, True), NagRuleCompliance.NON_COMPLIANT),
    ("5: no application configuration", None, NagRuleCompliance.NON_COMPLIANT),
    (
        "6: custom without CheckpointingEnabled",
        config({"configurationType": "CUSTOM"}, True),
        NagRuleCompliance.NON_COMPLIANT,
    ),
]


@pytest.mark.parametrize(("case", "configuration", "expected"), CASES, ids=[c[0] for c in CASES])
def test_rule(case: str, configuration: dict[str, Any] | None, expected: NagRuleCompliance) -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    assert flink_checkpointing(application(stack, configuration)) == expected


def test_not_applicable_to_sql_applications_and_other_resources() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    assert flink_checkpointing(application(stack, None, runtime="SQL-1_0")) == NagRuleCompliance.NOT_APPLICABLE
    assert (
        flink_checkpointing(cdk.CfnResource(stack, "Other", type="AWS::SNS::Topic")) == NagRuleCompliance.NOT_APPLICABLE
    )


def test_the_pack_fails_synth_on_an_application_without_checkpointing(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    application(cdk.Stack(app, "Job"), config(CUSTOM_OFF, True))
    cdk.Validations.of(app).add_plugins(UnilakeChecks(app))
    with pytest.raises(RuntimeError, match=r"ValidationFailed(.|\n)*Unilake::Unilake-FlinkCheckpoints"):
        app.synth()
