"""grant_table_access: reads on the read tables, writes and commits on the written ones, nothing else."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from cdk_constructs.lake_table_access import grant_table_access

ENV = cdk.Environment(account="111111111111", region="eu-west-1")
CONTEXT = {"@aws-cdk/core:enablePartitionLiterals": True}
BUCKET = "arn:aws:s3:::lake"
GLUE = "arn:aws:glue:eu-west-1:111111111111"


def granted(*, read: dict[str, str], write: dict[str, str]) -> tuple[dict[str, dict[str, Any]], iam.ManagedPolicy]:
    stack = cdk.Stack(cdk.App(context=CONTEXT), "Test", env=ENV)
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("kinesisanalytics.amazonaws.com"))
    policy = iam.ManagedPolicy(stack, "Policy", roles=[role])
    key = kms.Key(stack, "Key")
    grant_table_access(policy, bucket_name="lake", database_name="db", key=key, read=read, write=write)
    document = stack.resolve(policy.document.to_json())
    return {statement["Sid"]: statement for statement in document["Statement"]}, policy


def test_reads_the_source_writes_and_commits_the_sinks_only() -> None:
    statements, _ = granted(read={"src": "w/db.db/src"}, write={"out": "w/db.db/out"})
    assert statements["ReadCatalog"]["Resource"] == [
        f"{GLUE}:catalog",
        f"{GLUE}:database/db",
        f"{GLUE}:table/db/src",
        f"{GLUE}:table/db/out",
    ]
    assert statements["CommitToSinkTables"]["Action"] == "glue:UpdateTable"
    assert statements["CommitToSinkTables"]["Resource"] == [
        f"{GLUE}:catalog",
        f"{GLUE}:database/db",
        f"{GLUE}:table/db/out",
    ]
    assert statements["ReadSourceTableFiles"] == {
        "Sid": "ReadSourceTableFiles",
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": f"{BUCKET}/w/db.db/src/*",
    }
    assert statements["WriteSinkTableFiles"]["Resource"] == f"{BUCKET}/w/db.db/out/*"
    assert "s3:PutObject" in statements["WriteSinkTableFiles"]["Action"]
    assert statements["ListTableLocations"]["Condition"] == {
        "StringLike": {"s3:prefix": ["w/db.db/src/*", "w/db.db/out/*"]}
    }
    assert statements["UseTheLakeKeyThroughS3Only"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
    }
    actions = {a for s in statements.values() for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert not any(action.startswith(("glue:Create", "glue:Delete", "s3:DeleteBucket")) for action in actions)


def test_a_read_only_grant_commits_nothing() -> None:
    statements, _ = granted(read={"src": "w/db.db/src"}, write={})
    assert "CommitToSinkTables" not in statements
    assert "WriteSinkTableFiles" not in statements


def test_the_table_file_wildcards_are_acknowledged_on_the_policy() -> None:
    _, policy = granted(read={"src": "w/db.db/src"}, write={"out": "w/db.db/out"})
    acknowledged = {
        rule
        for entry in policy.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule in entry.data
    }
    assert acknowledged == {
        f"AwsSolutions::AwsSolutions-IAM5[Resource::{BUCKET}/w/db.db/src/*]",
        f"AwsSolutions::AwsSolutions-IAM5[Resource::{BUCKET}/w/db.db/out/*]",
    }


def test_nothing_to_grant_is_refused() -> None:
    stack = cdk.Stack(cdk.App(), "Test", env=ENV)
    policy = iam.ManagedPolicy(stack, "Policy")
    with pytest.raises(ValueError, match="at least one table"):
        grant_table_access(policy, bucket_name="b", database_name="d", key=kms.Key(stack, "K"), read={}, write={})
