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
            "IntelligentTieringConfigurations": [
                {
                    "Id": "archive-tiers",
                    "Status": "Enabled",
                    "Tierings": [
                        {"AccessTier": "ARCHIVE_ACCESS", "Days": 90},
                        {"AccessTier": "DEEP_ARCHIVE_ACCESS", "Days": 180},
                    ],
                }
            ],
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
        assert {"DenyObjectWritesWithAnotherEncryption", "DenyObjectWritesWithAnotherKey"} <= sids
        another_encryption = next(s for s in statements if s.get("Sid") == "DenyObjectWritesWithAnotherEncryption")
        assert another_encryption["Action"] == "s3:PutObject"
        assert another_encryption["Condition"] == {
            "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}
        }


def json_key(value: object) -> str:
    import json

    return json.dumps(value, sort_keys=True)


def test_stateful_resources_are_retained_unless_the_environment_says_destroy(synthesis: Synthesis) -> None:
    for env, policy in (("prod", "Retain"), ("staging", "Retain"), ("dev", "Delete")):
        template = synthesis.template(env, "lake")
        for resource_type in ("AWS::KMS::Key", "AWS::S3::Bucket"):
            resources = template.find_resources(resource_type)
            assert resources, resource_type
            for resource in resources.values():
                assert resource["DeletionPolicy"] == policy, (env, resource_type)
                assert resource["UpdateReplacePolicy"] == policy, (env, resource_type)


def test_termination_protection_only_where_configured(synthesis: Synthesis) -> None:
    assert synthesis.stack("prod", "lake").termination_protection is True
    assert synthesis.stack("staging", "lake").termination_protection is False
    assert synthesis.stack("dev", "lake").termination_protection is False
