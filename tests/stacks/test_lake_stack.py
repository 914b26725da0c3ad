"""The stateful lake stack, asserted property by property on the shared synthesis."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match

from tests.conftest import Synthesis

ENVIRONMENTS = ("dev", "staging", "prod")


def test_key_rotates_and_lets_only_this_accounts_log_delivery_use_it(synthesis: Synthesis) -> None:
    template = synthesis.template("prod", "lake")
    template.resource_count_is("AWS::KMS::Key", 1)
    template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "EnableKeyRotation": True,
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "AllowS3ServerAccessLogDeliveryFromThisAccount",
                                "Principal": {"Service": "logging.s3.amazonaws.com"},
                                "Action": "kms:GenerateDataKey*",
                                "Condition": {"StringEquals": {"aws:SourceAccount": "333333333333"}},
                            }
                        )
                    ]
                )
            },
        },
    )


@pytest.mark.parametrize(
    "bucket", ["unilake-prod-lake-333333333333-us-east-1", "unilake-prod-access-logs-333333333333-us-east-1"]
)
def test_buckets_are_kms_encrypted_versioned_private(synthesis: Synthesis, bucket: str) -> None:
    synthesis.template("prod", "lake").has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketName": bucket,
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {
                        "BucketKeyEnabled": True,
                        "ServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": {"Fn::GetAtt": [Match.string_like_regexp("LakeKey"), "Arn"]},
                        },
                    }
                ]
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        },
    )


def test_lake_bucket_tiers_logs_and_expires(synthesis: Synthesis) -> None:
    synthesis.template("prod", "lake").has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketName": "unilake-prod-lake-333333333333-us-east-1",
            # The archive tiers are opt-in and off in every example environment (issue 15 (j)).
            "IntelligentTieringConfigurations": Match.absent(),
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Id": "intelligent-tiering-from-day-0",
                                "Transitions": [{"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 0}],
                            }
                        ),
                        Match.object_like(
                            {
                                "Id": "expire-noncurrent-versions",
                                "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                            }
                        ),
                    ]
                )
            },
            "LoggingConfiguration": {
                "DestinationBucketName": {"Ref": Match.string_like_regexp("LakeAccessLogs")},
                "LogFilePrefix": "s3/unilake-prod-lake-333333333333-us-east-1/",
            },
        },
    )


def _policy_statements(synthesis: Synthesis, env: str) -> list[list[dict[str, object]]]:
    template = synthesis.template_json(env, "lake")
    return [
        resource["Properties"]["PolicyDocument"]["Statement"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::S3::BucketPolicy"
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_bucket_policy_denies_plain_http_old_tls_and_foreign_encryption(synthesis: Synthesis, env: str) -> None:
    policies = _policy_statements(synthesis, env)
    assert len(policies) == 2
    for statements in policies:
        conditions = {json_key(s.get("Condition")): s for s in statements if s["Effect"] == "Deny"}
        assert json_key({"Bool": {"aws:SecureTransport": "false"}}) in conditions
        assert json_key({"NumericLessThan": {"s3:TlsVersion": 1.2}}) in conditions
        sids = {s.get("Sid") for s in statements}
        assert {
            "DenyObjectWritesWithAnotherEncryption",
            "DenyObjectWritesWithAnotherKey",
            "DenyObjectWritesWithTheAwsManagedKey",
        } <= sids
        another_encryption = next(s for s in statements if s.get("Sid") == "DenyObjectWritesWithAnotherEncryption")
        assert another_encryption["Action"] == "s3:PutObject"
        # Only when the header is there: a write without one is encrypted by the bucket default (issue 15 (a)).
        assert another_encryption["Condition"] == {
            "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
            "Null": {"s3:x-amz-server-side-encryption": "false"},
        }
        for statement in statements:
            assert not any(op.endswith("IfExists") for op in statement.get("Condition", {})), statement.get("Sid")


def json_key(value: object) -> str:
    import json

    return json.dumps(value, sort_keys=True)


def test_stateful_resources_are_retained_unless_the_environment_says_destroy(synthesis: Synthesis) -> None:
    # RetainExceptOnCreate: kept on update and delete, removed when the first create rolls back, so a retry
    # does not fail on a fixed name that plain Retain would have left behind (issue 15 (f)).
    for env, deletion, replace in (
        ("prod", "RetainExceptOnCreate", "Retain"),
        ("staging", "RetainExceptOnCreate", "Retain"),
        ("dev", "Delete", "Delete"),
    ):
        template = synthesis.template(env, "lake")
        for resource_type in ("AWS::KMS::Key", "AWS::S3::Bucket"):
            resources = template.find_resources(resource_type)
            assert resources, resource_type
            for resource in resources.values():
                assert resource["DeletionPolicy"] == deletion, (env, resource_type)
                assert resource["UpdateReplacePolicy"] == replace, (env, resource_type)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_stack_leaves_a_resource_behind_after_a_failed_first_create(synthesis: Synthesis, env: str) -> None:
    for stack_env, stack in synthesis.stacks():
        if stack_env != env:
            continue
        template = synthesis.template_json(env, stack.node.id)
        for logical_id, resource in template["Resources"].items():
            assert resource.get("DeletionPolicy") != "Retain", f"{stack.stack_name}/{logical_id}"


@pytest.mark.parametrize(("env", "emptied"), [("dev", True), ("staging", False), ("prod", False)])
def test_buckets_are_emptied_on_delete_only_where_they_are_destroyed(
    synthesis: Synthesis, env: str, emptied: bool
) -> None:
    template = synthesis.template_json(env, "lake")
    buckets = {k for k, r in template["Resources"].items() if r["Type"] == "AWS::S3::Bucket"}
    emptiers = [r for r in template["Resources"].values() if r["Type"] == "Custom::S3AutoDeleteObjects"]
    assert {e["Properties"]["BucketName"]["Ref"] for e in emptiers} == (buckets if emptied else set())


def test_archive_tiers_are_set_only_when_configured() -> None:
    import aws_cdk as cdk
    from aws_cdk import assertions

    from app import cdk_json_context
    from cdk_constructs.lake_storage import LakeStorage

    app = cdk.App(context=cdk_json_context())  # the feature flags of cdk.json, as the real app has them
    stack = cdk.Stack(app, "Opt", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    common = {
        "noncurrent_version_expiration": cdk.Duration.days(7),
        "abort_incomplete_multipart_upload_after": cdk.Duration.days(1),
        "access_log_expiration": cdk.Duration.days(30),
    }
    LakeStorage(stack, "Off", bucket_name="tiers-off", access_log_bucket_name="tiers-off-logs", **common)  # type: ignore[arg-type]
    LakeStorage(
        stack,
        "On",
        bucket_name="tiers-on",
        access_log_bucket_name="tiers-on-logs",
        archive_access_after=cdk.Duration.days(120),
        deep_archive_access_after=cdk.Duration.days(400),
        **common,  # type: ignore[arg-type]
    )
    buckets = assertions.Template.from_stack(stack).find_resources("AWS::S3::Bucket")
    tiering = {
        r["Properties"]["BucketName"]: r["Properties"].get("IntelligentTieringConfigurations") for r in buckets.values()
    }
    assert tiering["tiers-off"] is None
    assert tiering["tiers-on"] == [
        {
            "Id": "archive-tiers",
            "Status": "Enabled",
            "Tierings": [
                {"AccessTier": "ARCHIVE_ACCESS", "Days": 120},
                {"AccessTier": "DEEP_ARCHIVE_ACCESS", "Days": 400},
            ],
        }
    ]


def test_termination_protection_only_where_configured(synthesis: Synthesis) -> None:
    assert synthesis.stack("prod", "lake").termination_protection is True
    assert synthesis.stack("staging", "lake").termination_protection is False
    assert synthesis.stack("dev", "lake").termination_protection is False
