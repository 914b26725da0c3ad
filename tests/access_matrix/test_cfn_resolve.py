"""cfn_resolve: intrinsics become concrete values, and anything unknown fails loudly."""

from __future__ import annotations

from typing import Any

import pytest

from tests.access_matrix.cfn_resolve import EnvironmentTemplates, StackTemplate, UnresolvableError

LAKE: dict[str, Any] = {
    "Resources": {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "lake"}},
    },
    "Outputs": {
        "KeyArn": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}},
        "Exported": {"Value": {"Ref": "Bucket"}, "Export": {"Name": "lake:bucket"}},
    },
}
APP: dict[str, Any] = {
    "Parameters": {"Flag": {"Type": "String", "Default": "x"}, "NoDefault": {"Type": "String"}},
    "Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
        "Thing": {"Type": "AWS::Made::Up", "Properties": {}},
    },
}


def environment() -> EnvironmentTemplates:
    return EnvironmentTemplates(
        account="111111111111",
        region="eu-west-1",
        stacks={"env-lake": StackTemplate("env-lake", LAKE), "env-app": StackTemplate("env-app", APP)},
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "AWS::Partition"}, "aws"),
        ({"Fn::Join": [":", ["a", {"Ref": "AWS::Region"}]]}, "a:eu-west-1"),
        ({"Fn::Select": [1, {"Fn::GetAZs": ""}]}, "eu-west-1b"),
        ({"Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}/*"}, None),
        ({"Fn::Sub": ["${A}-${!Literal}", {"A": {"Ref": "AWS::AccountId"}}]}, "111111111111-${Literal}"),
        ({"Fn::Split": [",", "a,b"]}, ["a", "b"]),
        ({"Ref": "Flag"}, "x"),
        ({"Fn::GetAtt": ["Role", "Arn"]}, "arn:aws:iam::111111111111:role/env-app-role"),
        (
            {"Fn::GetStackOutput": {"StackName": "env-lake", "Region": "eu-west-1", "OutputName": "KeyArn"}},
            "arn:aws:kms:eu-west-1:111111111111:key/key-env-lake-key",
        ),
        ({"Fn::ImportValue": "lake:bucket"}, "lake"),
    ],
)
def test_resolves(value: Any, expected: Any) -> None:
    stack = "env-lake" if "Bucket" in str(value) and "Import" not in str(value) else "env-app"
    resolved = environment().resolve(stack, value)
    assert resolved == (expected if expected is not None else "arn:aws:s3:::lake/*")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Fn::If": ["C", "a", "b"]}, "Fn::If is not supported"),
        ({"Ref": "Missing"}, "no resource 'Missing'"),
        ({"Ref": "NoDefault"}, "has no default"),
        ({"Ref": "Thing"}, "AWS::Made::Up"),
        ({"Fn::GetAtt": ["Role", "RoleId"]}, "Role.RoleId"),
        ({"Fn::ImportValue": "nobody:exports"}, "no stack exports it"),
        ({"Fn::GetStackOutput": {"StackName": "env-lake", "OutputName": "Nope"}}, "no output 'Nope'"),
        ({"Fn::GetStackOutput": {"StackName": "other", "OutputName": "X"}}, "no stack named 'other'"),
    ],
)
def test_anything_unknown_fails_loudly(value: Any, message: str) -> None:
    with pytest.raises(UnresolvableError, match=message):
        environment().resolve("env-app", value)
