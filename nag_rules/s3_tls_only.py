"""Unilake-S3TLS: every S3 bucket denies plain HTTP and TLS older than 1.2.

A bucket is compliant when a bucket policy attached to it has, for every principal, all S3
actions and both the bucket and its objects:
- a Deny on ``Bool: aws:SecureTransport = false``, and
- a Deny on ``NumericLessThan: s3:TlsVersion < X`` with X >= 1.2 (compared as a number).
A bucket with no policy at all is non-compliant.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from aws_cdk import CfnResource, Stack
from aws_cdk import aws_s3 as s3
from cdk_nag import NagRuleCompliance

MIN_TLS_VERSION = 1.2

INFO = "The S3 bucket's policy does not deny both non-TLS requests and TLS versions below 1.2."
EXPLANATION = (
    "Data in transit to the lake must be encrypted with a current protocol. The bucket policy must deny "
    "aws:SecureTransport=false and s3:TlsVersion < 1.2 for all principals, actions and objects "
    "(set enforce_ssl=True and minimum_tls_version=1.2 on s3.Bucket)."
)


def s3_tls_only(node: CfnResource) -> NagRuleCompliance:
    if not isinstance(node, s3.CfnBucket):
        return NagRuleCompliance.NOT_APPLICABLE
    stack = Stack.of(node)
    bucket_refs = {stack.resolve(node.logical_id), stack.resolve(node.bucket_name)} - {None}
    statements = [
        statement
        for policy in _policies_of(stack, bucket_refs)
        for statement in _statements(stack, policy)
        if _denies_everyone_everything(statement) and _covers_bucket_and_objects(statement, bucket_refs)
    ]
    if any(_denies_insecure_transport(s) for s in statements) and any(_denies_old_tls(s) for s in statements):
        return NagRuleCompliance.COMPLIANT
    return NagRuleCompliance.NON_COMPLIANT


def _policies_of(stack: Stack, bucket_refs: set[Any]) -> Iterable[s3.CfnBucketPolicy]:
    for child in stack.node.find_all():
        if isinstance(child, s3.CfnBucketPolicy):
            target = stack.resolve(child.bucket)
            if isinstance(target, dict):
                target = target.get("Ref")
            if isinstance(target, str) and target in bucket_refs:
                yield child


def _statements(stack: Stack, policy: s3.CfnBucketPolicy) -> list[dict[str, Any]]:
    document = stack.resolve(policy.policy_document) or {}
    statements = document.get("Statement", [])
    return [stack.resolve(s) for s in (statements if isinstance(statements, list) else [statements])]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _denies_everyone_everything(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal")
    everyone = principal == "*" or (isinstance(principal, dict) and "*" in _as_list(principal.get("AWS")))
    actions = {str(a).lower() for a in _as_list(statement.get("Action", []))}
    return statement.get("Effect") == "Deny" and everyone and bool(actions & {"*", "s3:*"})


def _covers_bucket_and_objects(statement: dict[str, Any], bucket_refs: set[Any]) -> bool:
    resources = [json.dumps(r) for r in _as_list(statement.get("Resource", []))]
    mentions = [r for r in resources if any(str(ref) in r for ref in bucket_refs)]
    return any("/*" in r for r in mentions) and any("/*" not in r for r in mentions)


def _denies_insecure_transport(statement: dict[str, Any]) -> bool:
    value = statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")
    return str(value).lower() == "false"


def _denies_old_tls(statement: dict[str, Any]) -> bool:
    value = statement.get("Condition", {}).get("NumericLessThan", {}).get("s3:TlsVersion")
    try:
        return float(value) >= MIN_TLS_VERSION
    except (TypeError, ValueError):
        return False
