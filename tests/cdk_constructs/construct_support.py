"""A stack to build one construct in, alone, and its synthesized resources."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from app import cdk_json_context

ACCOUNT, REGION = "111111111111", "eu-west-1"
# The app's own feature flags (cdk.json), as every construct of the app is built with them.
CONTEXT = cdk_json_context()


def new_stack(name: str = "Test") -> cdk.Stack:
    return cdk.Stack(cdk.App(context=CONTEXT), name, env=cdk.Environment(account=ACCOUNT, region=REGION))


def resources(stack: cdk.Stack, kind: str | None = None) -> dict[str, dict[str, Any]]:
    """The stack's resources (of one type if ``kind`` is given), by logical id."""
    template: dict[str, Any] = Template.from_stack(stack).to_json()
    return {k: r for k, r in template["Resources"].items() if kind is None or r["Type"] == kind}
