"""Walk every IAM policy in every template: no wildcard action anywhere, and ``Resource: "*"``
only for the (action, reason) pairs below, each imposed by AWS."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Synthesis

# Actions that AWS offers no resource-level scope for; ``Resource: "*"`` is allowed only with these.
STAR_RESOURCE_ALLOWED: dict[str, str] = {
    "cloudwatch:PutMetricData": "no resource type; scoped by the cloudwatch:namespace condition",
    "ec2:DescribeVpcs": "EC2 Describe* supports no resource-level permissions",
    "ec2:DescribeSubnets": "EC2 Describe* supports no resource-level permissions",
    "ec2:DescribeSecurityGroups": "EC2 Describe* supports no resource-level permissions",
    "ec2:DescribeDhcpOptions": "EC2 Describe* supports no resource-level permissions",
    "ec2:DescribeNetworkInterfaces": "EC2 Describe* supports no resource-level permissions",
    "logs:DescribeLogGroups": "no resource type (Service Authorization Reference); Managed Flink validates logging",
}
POLICY_TYPES = {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role"}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _identity_statements(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for logical_id, resource in template.get("Resources", {}).items():
        props = resource.get("Properties", {})
        if resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            documents = [props.get("PolicyDocument", {})]
        elif resource["Type"] == "AWS::IAM::Role":
            documents = [p.get("PolicyDocument", {}) for p in props.get("Policies", [])]
        else:
            continue
        for document in documents:
            found.extend((logical_id, s) for s in _as_list(document.get("Statement", [])))
    return found


def test_no_wildcard_action_and_star_resources_only_where_aws_imposes_them(synthesis: Synthesis) -> None:
    problems = []
    walked = 0
    for path in synthesis.all_template_paths():
        template = json.loads(path.read_text())
        for logical_id, statement in _identity_statements(template):
            walked += 1
            where = f"{path.name}:{logical_id}:{statement.get('Sid', '?')}"
            if statement.get("Effect") != "Allow":
                continue
            actions = [str(a) for a in _as_list(statement.get("Action", []))]
            if "NotAction" in statement or "NotResource" in statement:
                problems.append(f"{where}: NotAction/NotResource")
            for action in actions:
                if "*" in action:
                    problems.append(f"{where}: wildcard action {action}")
            if "*" in _as_list(statement.get("Resource", [])):
                for action in actions:
                    if action not in STAR_RESOURCE_ALLOWED:
                        problems.append(f"{where}: Resource '*' for {action} is not in the allow-list")
    assert walked > 0
    assert problems == [], "\n".join(problems)
