"""The backfill stack: a second Managed Flink application, READY after a deploy, with its own narrow role."""

from __future__ import annotations

from typing import Any

import pytest

from flink_app.unilake_job import properties as job
from tests.conftest import Synthesis

BASE = "arn:aws:s3:::unilake-prod-lake-333333333333-us-east-1/warehouse/unilake_prod.db"
TABLE = "arn:aws:glue:us-east-1:333333333333:table/unilake_prod"


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def _application(synthesis: Synthesis, env: str) -> dict[str, Any]:
    (app,) = _resources(synthesis.template_json(env, "backfill"), "AWS::KinesisAnalyticsV2::Application").values()
    return app["Properties"]  # type: ignore[no-any-return]


def _job_properties(app: dict[str, Any]) -> dict[str, str]:
    groups = app["ApplicationConfiguration"]["EnvironmentProperties"]["PropertyGroups"]
    (group,) = [g for g in groups if g["PropertyGroupId"] == job.JOB_GROUP_ID]
    return group["PropertyMap"]  # type: ignore[no-any-return]


def _statements(synthesis: Synthesis) -> dict[str, dict[str, Any]]:
    (policy,) = _resources(synthesis.template_json("prod", "backfill"), "AWS::IAM::ManagedPolicy").values()
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_same_code_in_batch_mode_refusing_to_run_without_days(synthesis: Synthesis, env: str) -> None:
    backfill, streaming = _application(synthesis, env), _application_of_streaming(synthesis, env)
    assert backfill["ApplicationName"] == f"unilake-{env}-backfill"
    assert backfill["RuntimeEnvironment"] == streaming["RuntimeEnvironment"]
    code = backfill["ApplicationConfiguration"]["ApplicationCodeConfiguration"]
    assert code == streaming["ApplicationConfiguration"]["ApplicationCodeConfiguration"]  # one asset
    backfill_map, streaming_map = _job_properties(backfill), _job_properties(streaming)
    assert backfill_map == {**streaming_map, job.KEY_MODE: "batch", job.KEY_BACKFILL_REQUIRED: "true"}
    assert job.KEY_BACKFILL_FROM_DAY not in backfill_map  # set by `ops backfill`, never by a deploy
    with pytest.raises(job.SettingsError, match=r"'backfill.from-day': required: this application only runs"):
        job.parse_settings([{"PropertyGroupId": job.JOB_GROUP_ID, "PropertyMap": backfill_map}])
    flink = backfill["ApplicationConfiguration"]["FlinkApplicationConfiguration"]
    assert flink["ParallelismConfiguration"]["AutoScalingEnabled"] is False
    assert backfill["ApplicationConfiguration"]["ApplicationSnapshotConfiguration"] == {"SnapshotsEnabled": False}
    assert backfill["ApplicationConfiguration"]["VpcConfigurations"]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_a_deploy_never_starts_it(synthesis: Synthesis, env: str) -> None:
    """CloudFormation creates an application READY; nothing in the stack calls StartApplication."""
    template = synthesis.template_json(env, "backfill")
    kinds = {r["Type"] for r in template["Resources"].values()}
    assert not [k for k in kinds if k.startswith("Custom::") or k.startswith("AWS::Lambda::")]
    assert "AWS::CloudFormation::CustomResource" not in kinds
    assert "StartApplication" not in str(template)


def _application_of_streaming(synthesis: Synthesis, env: str) -> dict[str, Any]:
    (app,) = _resources(synthesis.template_json(env, "streaming"), "AWS::KinesisAnalyticsV2::Application").values()
    return app["Properties"]  # type: ignore[no-any-return]


def test_its_own_role_assumed_only_for_this_application(synthesis: Synthesis) -> None:
    template = synthesis.template_json("prod", "backfill")
    (role,) = _resources(template, "AWS::IAM::Role").values()
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "kinesisanalytics.amazonaws.com"}
    assert trust["Condition"]["ArnEquals"] == {
        "aws:SourceArn": "arn:aws:kinesisanalytics:us-east-1:333333333333:application/unilake-prod-backfill"
    }


def test_reads_the_source_and_checked_tables_overwrites_sales_and_fraud_nothing_else(synthesis: Synthesis) -> None:
    statements = _statements(synthesis)
    update = statements["CommitToSinkTables"]
    assert update["Action"] == "glue:UpdateTable"
    assert sorted(r for r in update["Resource"] if "table/" in str(r)) == sorted(
        f"{TABLE}/{t}" for t in ("fraud_alerts", "sales_per_minute")
    )
    read = [r for r in statements["ReadCatalog"]["Resource"] if "table/" in str(r)]
    assert sorted(read) == sorted(
        f"{TABLE}/{t}" for t in ("transactions", "sales_per_minute", "fraud_alerts", "quarantine")
    )
    # The quarantine is only read: the job checks at start that it exists, and an Iceberg catalog answers
    # that by loading the table (its metadata.json).
    assert sorted(statements["ReadSourceTableFiles"]["Resource"]) == [f"{BASE}/quarantine/*", f"{BASE}/transactions/*"]
    assert sorted(statements["WriteSinkTableFiles"]["Resource"]) == [
        f"{BASE}/fraud_alerts/*",
        f"{BASE}/sales_per_minute/*",
    ]
    assert sorted(statements["ListTableLocations"]["Condition"]["StringLike"]["s3:prefix"]) == [
        f"warehouse/unilake_prod.db/{t}/*" for t in ("fraud_alerts", "quarantine", "sales_per_minute", "transactions")
    ]
    actions = {a for s in statements.values() for a in _as_list(s["Action"])}
    assert not [a for a in actions if a.startswith(("kinesisanalytics:", "glue:Create", "glue:Delete", "iam:"))]
    assert "quarantine" not in str([update, statements["WriteSinkTableFiles"]])


def test_the_lake_key_lets_managed_flink_encrypt_both_applications(synthesis: Synthesis) -> None:
    """Each of the documented Managed Flink key statements names the backfill application beside the
    streaming one (tests/stacks/test_streaming_stack.py checks their full shape)."""
    (key,) = _resources(synthesis.template_json("prod", "lake"), "AWS::KMS::Key").values()
    statements = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid", "").startswith("AllowMSF")]
    assert len(statements) == 5
    applications = [
        "arn:aws:kinesisanalytics:us-east-1:333333333333:application/unilake-prod",
        "arn:aws:kinesisanalytics:us-east-1:333333333333:application/unilake-prod-backfill",
    ]
    for statement in statements:
        named = [
            values
            for conditions in statement["Condition"].values()
            for key_name, values in conditions.items()
            if key_name in ("aws:SourceArn", "kms:EncryptionContext:aws:kinesisanalytics:arn")
        ]
        assert named, statement["Sid"]
        assert all(values == applications for values in named), statement["Sid"]


def test_deploys_after_the_streaming_stack(synthesis: Synthesis) -> None:
    backfill, streaming = synthesis.stack("prod", "backfill"), synthesis.stack("prod", "streaming")
    assert streaming in backfill.dependencies
