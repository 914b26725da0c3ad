"""LakeStorage: the key and two buckets with their secure defaults, and their own nag acknowledgments."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest

from cdk_constructs.lake_storage import LakeStorage
from tests.cdk_constructs.construct_support import new_stack, resources

DAY = cdk.Duration.days(1)


def lake_storage(stack: cdk.Stack) -> LakeStorage:
    return LakeStorage(
        stack,
        "Lake",
        bucket_name="lake",
        access_log_bucket_name="lake-logs",
        archive_access_after=cdk.Duration.days(90),
        deep_archive_access_after=cdk.Duration.days(180),
        noncurrent_version_expiration=DAY,
        abort_incomplete_multipart_upload_after=DAY,
        access_log_expiration=DAY,
    )


@pytest.fixture(scope="module")
def storage() -> tuple[LakeStorage, dict[str, dict[str, Any]]]:
    stack = new_stack()
    made = lake_storage(stack)
    return made, resources(stack)


def test_both_buckets_are_kms_encrypted_versioned_private_and_retained(
    storage: tuple[LakeStorage, dict[str, dict[str, Any]]],
) -> None:
    _, template = storage
    buckets = {r["Properties"]["BucketName"]: r for r in template.values() if r["Type"] == "AWS::S3::Bucket"}
    assert set(buckets) == {"lake", "lake-logs"}
    (key_id,) = [k for k, r in template.items() if r["Type"] == "AWS::KMS::Key"]
    for bucket in buckets.values():
        properties = bucket["Properties"]
        (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule == {
            "BucketKeyEnabled": True,
            "ServerSideEncryptionByDefault": {
                "KMSMasterKeyID": {"Fn::GetAtt": [key_id, "Arn"]},
                "SSEAlgorithm": "aws:kms",
            },
        }
        assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
        assert all(properties["PublicAccessBlockConfiguration"].values())
        assert bucket["DeletionPolicy"] == "RetainExceptOnCreate"
    logs_id = next(k for k, r in template.items() if r.get("Properties", {}).get("BucketName") == "lake-logs")
    assert buckets["lake"]["Properties"]["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logs_id}


def test_each_bucket_acknowledges_replication_itself(storage: tuple[LakeStorage, dict[str, dict[str, Any]]]) -> None:
    made, _ = storage
    for bucket in (made.bucket, made.access_log_bucket):
        acknowledged = {
            rule
            for entry in bucket.node.metadata
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
            for rule in entry.data
        }
        assert acknowledged == {
            f"{pack}::{pack}-S3BucketReplicationEnabled" for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
        }


def test_managed_flink_may_use_the_key_for_one_application_only() -> None:
    """AWS's five documented statements (manage-cmk-api.html), each tied to this one application: by
    aws:SourceArn (with aws:SourceAccount) or by the encryption context aws:kinesisanalytics:arn."""
    application = "arn:aws:kinesisanalytics:eu-west-1:111111111111:application/app"
    made = lake_storage(new_stack())
    made.allow_managed_flink_encryption(application)
    (key,) = resources(cdk.Stack.of(made), "AWS::KMS::Key").values()
    statements = {
        s["Sid"]: s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid", "").startswith("AllowMSF")
    }
    assert set(statements) == {
        "AllowMSFServiceToDescribeKey",
        "AllowMSFServiceToGenerateDataKeyForDurableState",
        "AllowMSFServiceToDecryptForDurableState",
        "AllowMSFServiceToUseKeyForRunningState",
        "AllowMSFServiceToCreateGrantForRunningState",
    }
    for sid, statement in statements.items():
        equals = statement["Condition"]["StringEquals"]
        tied = {equals.get("aws:SourceArn"), equals.get("kms:EncryptionContext:aws:kinesisanalytics:arn")}
        assert application in tied, sid
        if "aws:SourceArn" in equals:
            assert equals["aws:SourceAccount"] == "111111111111", sid
    grant = statements["AllowMSFServiceToCreateGrantForRunningState"]["Condition"]
    assert grant["ForAllValues:StringEquals"] == {"kms:GrantOperations": "Decrypt"}
