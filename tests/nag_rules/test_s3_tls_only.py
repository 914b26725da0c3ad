"""Unilake-S3TLS: a table of compliant and non-compliant buckets built from L1 resources."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from cdk_nag import NagRuleCompliance

from nag_rules.pack import UnilakeChecks
from nag_rules.s3_tls_only import s3_tls_only

BUCKET = {"Fn::GetAtt": ["Bucket", "Arn"]}
OBJECTS = {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/*"]]}


def deny(condition: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    statement = {
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:*",
        "Resource": [BUCKET, OBJECTS],
        "Condition": condition,
    }
    statement.update(overrides)
    return statement


INSECURE = {"Bool": {"aws:SecureTransport": "false"}}


def old_tls(version: object) -> dict[str, Any]:
    return {"NumericLessThan": {"s3:TlsVersion": version}}


def evaluate(statements: list[dict[str, Any]] | None, *, bucket_name: str | None = None) -> NagRuleCompliance:
    stack = cdk.Stack(cdk.App(), "Test")
    bucket = s3.CfnBucket(stack, "Bucket", bucket_name=bucket_name)
    bucket.override_logical_id("Bucket")
    if statements is not None:
        target = bucket_name if bucket_name else bucket.ref
        s3.CfnBucketPolicy(
            stack, "Policy", bucket=target, policy_document={"Version": "2012-10-17", "Statement": statements}
        )
    return s3_tls_only(bucket)


COMPLIANT = [
    ("both denies", [deny(INSECURE), deny(old_tls(1.2))]),
    ("version as a string", [deny(INSECURE), deny(old_tls("1.2"))]),
    ("stricter minimum (1.3)", [deny(INSECURE), deny(old_tls("1.3"))]),
    ("action list with s3:*", [deny(INSECURE, Action=["s3:GetObject", "s3:*"]), deny(old_tls(1.2))]),
    ("principal *", [deny(INSECURE, Principal="*"), deny(old_tls(1.2), Principal="*")]),
]

NON_COMPLIANT = [
    ("1: no bucket policy at all", None),
    ("2: only the SecureTransport deny", [deny(INSECURE)]),
    ("3: only the TLS version deny", [deny(old_tls(1.2))]),
    ("4: TLS minimum 1.1 (compared as a number)", [deny(INSECURE), deny(old_tls("1.1"))]),
    ("5: TLS minimum '1.10' is 1.1, not 1.10 > 1.2", [deny(INSECURE), deny(old_tls("1.10"))]),
    ("6: Allow instead of Deny", [deny(INSECURE, Effect="Allow"), deny(old_tls(1.2))]),
    ("7: one principal only", [deny(INSECURE, Principal={"AWS": "arn:aws:iam::1:root"}), deny(old_tls(1.2))]),
    ("8: only s3:GetObject", [deny(INSECURE, Action="s3:GetObject"), deny(old_tls(1.2))]),
    ("9: objects not covered", [deny(INSECURE, Resource=[BUCKET]), deny(old_tls(1.2))]),
    ("10: SecureTransport true", [deny({"Bool": {"aws:SecureTransport": "true"}}), deny(old_tls(1.2))]),
    ("11: TLS version not a number", [deny(INSECURE), deny(old_tls("TLSv1.2"))]),
]


@pytest.mark.parametrize(("case", "statements"), COMPLIANT, ids=[c[0] for c in COMPLIANT])
def test_compliant(case: str, statements: list[dict[str, Any]]) -> None:
    assert evaluate(statements) == NagRuleCompliance.COMPLIANT


@pytest.mark.parametrize(("case", "statements"), NON_COMPLIANT, ids=[c[0] for c in NON_COMPLIANT])
def test_non_compliant(case: str, statements: list[dict[str, Any]] | None) -> None:
    assert evaluate(statements) == NagRuleCompliance.NON_COMPLIANT


def test_policy_attached_by_bucket_name_counts() -> None:
    statements = [
        deny(INSECURE, Resource=["arn:aws:s3:::named", "arn:aws:s3:::named/*"]),
        deny(old_tls(1.2), Resource=["arn:aws:s3:::named", "arn:aws:s3:::named/*"]),
    ]
    assert evaluate(statements, bucket_name="named") == NagRuleCompliance.COMPLIANT


def test_another_buckets_policy_does_not_count() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    bucket = s3.CfnBucket(stack, "Bucket")
    other = s3.CfnBucket(stack, "Other")
    s3.CfnBucketPolicy(
        stack,
        "Policy",
        bucket=other.ref,
        policy_document={"Statement": [deny(INSECURE), deny(old_tls(1.2))]},
    )
    assert s3_tls_only(bucket) == NagRuleCompliance.NON_COMPLIANT


def test_not_applicable_to_other_resources() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    policy = s3.CfnBucketPolicy(stack, "Policy", bucket="b", policy_document={"Statement": []})
    assert s3_tls_only(policy) == NagRuleCompliance.NOT_APPLICABLE


def test_the_pack_fails_synth_on_a_non_compliant_bucket(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Plain")
    s3.Bucket(stack, "NoTlsPolicy")  # an L2 bucket without enforce_ssl has no policy at all
    cdk.Validations.of(app).add_plugins(UnilakeChecks(app))
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    (plugin,) = report["pluginReports"]
    assert plugin["pluginName"] == "Unilake"
    (violation,) = plugin["violations"]
    assert violation["ruleName"] == "Unilake-S3TLS"
    assert [c["constructPath"] for c in violation["violatingConstructs"]] == ["Plain/NoTlsPolicy/Resource"]
