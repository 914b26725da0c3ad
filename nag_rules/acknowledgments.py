"""Acknowledging cdk-nag findings where they are made, and refusing stale acknowledgments.

The construct that creates a wildcard or an accepted deviation acknowledges it itself, on the resource
it made (``acknowledge``), with a reason from ``nag_rules.reasons``. An IAM wildcard finding is derived
from the very ARN the construct put in its policy (``acknowledge_wildcard_resources``), so no ARN and no
construct path is written twice.

How it works with cdk-nag 3: the packs are CDK validation plugins. We acknowledge with CDK's qualified
id ``<pack>::<rule>[<finding>]`` (the id CDK's report prints after "Acknowledge with"), so CDK itself
suppresses the finding and lists it, with the path it was acknowledged at, under ``suppressedViolations``
in the cloud assembly's ``validation-report.json``. Every acknowledgment is also recorded in its stack's
metadata file. After synth, ``stale_acknowledgments`` compares the two: an acknowledgment that
suppressed no finding is stale, and the app refuses it (``check_acknowledgments``). Both are file reads;
nothing walks the construct tree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from constructs import IConstruct

# The packs app.enable_checks registers, by their plugin names (cdk-nag's ``name``; ours is Unilake).
PACKS = ("AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321", "Unilake")
IAM_WILDCARD_RULE = "AwsSolutions-IAM5"
_METADATA_TYPE = "aws:cdk:acknowledged-rules"  # cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
_REPORT_FILE = "validation-report.json"


class StaleAcknowledgmentError(ValueError):
    """An acknowledgment suppressed no finding."""


def qualified_id(rule: str) -> str:
    """``AwsSolutions-IAM5[...]`` -> ``AwsSolutions::AwsSolutions-IAM5[...]`` (the pack's plugin name first)."""
    pack = next((pack for pack in PACKS if rule.startswith(f"{pack}-")), None)
    if pack is None:
        raise ValueError(f"{rule!r} is not a rule of the packs we run ({', '.join(PACKS)})")
    return f"{pack}::{rule}"


def acknowledge(scope: IConstruct, *rules: str, reason: str) -> None:
    """Acknowledge ``rules`` (e.g. ``HIPAA.Security-LambdaDLQ``) on ``scope`` and what it contains."""
    if not reason.strip():
        raise ValueError("an acknowledgment needs a reason")
    validations = cdk.Validations.of(scope)
    for rule in rules:
        validations.acknowledge(cdk.Acknowledgment(id=qualified_id(rule), reason=reason))


def acknowledge_wildcard_resources(policy: IConstruct, resources: Iterable[str], *, reason: str) -> None:
    """Acknowledge AwsSolutions-IAM5 for each of ``resources``, the ARNs (strings or tokens) exactly as
    they stand in ``policy``'s statements: the finding id is derived from them as cdk-nag derives it."""
    stack = cdk.Stack.of(policy)
    for resource in resources:
        finding = flatten_cfn_reference(stack.resolve(resource))
        if "*" not in finding:
            raise ValueError(f"{finding!r} has no wildcard: there is nothing to acknowledge")
        acknowledge(policy, f"{IAM_WILDCARD_RULE}[Resource::{finding}]", reason=reason)


def flatten_cfn_reference(value: Any) -> str:
    """A resolved CloudFormation value as cdk-nag writes it into a finding id (cdk-nag 3.0.2,
    ``src/utils/flatten-cfn-reference.ts``): ``Fn::Join`` joined, ``Fn::GetAtt`` as ``<Logical.Attr>``,
    ``Ref`` as ``<Logical>``, ``${...}`` of ``Fn::Sub`` as ``<...>``; anything else as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("${", "<").replace("}", ">")
    if isinstance(value, dict):
        if "Fn::Join" in value:
            delimiter, items = value["Fn::Join"]
            return str(delimiter).join(flatten_cfn_reference(item) for item in items)
        if "Fn::Sub" in value:
            return flatten_cfn_reference(value["Fn::Sub"])
        if "Fn::GetAtt" in value:
            resource, attribute = value["Fn::GetAtt"]
            return f"<{flatten_cfn_reference(resource)}.{flatten_cfn_reference(attribute)}>"
        if "Fn::ImportValue" in value:
            return flatten_cfn_reference(value["Fn::ImportValue"])
        if "Ref" in value:
            return f"<{flatten_cfn_reference(value['Ref'])}>"
    return json.dumps(value, separators=(",", ":"))


# --- after synth ----------------------------------------------------------------------------------


def recorded_acknowledgments(outdir: Path) -> set[tuple[str, str]]:
    """Every ``(qualified id, construct path)`` acknowledged for our packs in the cloud assembly's stacks
    (aws-cdk-lib acknowledges some rules of its own CloudFormation validation: not ours to judge)."""
    namespaces = tuple(f"{pack}::" for pack in PACKS)
    recorded: set[tuple[str, str]] = set()
    for metadata_file in sorted(Path(outdir).glob("**/*.metadata.json")):
        metadata: dict[str, list[dict[str, Any]]] = json.loads(metadata_file.read_text())
        for path, entries in metadata.items():
            for entry in entries:
                if entry.get("type") == _METADATA_TYPE:
                    recorded.update(
                        (rule, path.lstrip("/")) for rule in entry.get("data", {}) if rule.startswith(namespaces)
                    )
    return recorded


def used_acknowledgments(outdir: Path) -> set[tuple[str, str]]:
    """Every ``(qualified id, construct path)`` that suppressed a finding, from ``validation-report.json``."""
    report_file = Path(outdir) / _REPORT_FILE
    if not report_file.exists():  # no finding at all, suppressed or not
        return set()
    report: dict[str, Any] = json.loads(report_file.read_text())
    return {
        (suppressed["acknowledgedId"], suppressed["acknowledgedAt"])
        for plugin in report.get("pluginReports", [])
        for suppressed in plugin.get("suppressedViolations") or []
    }


def stale_acknowledgments(outdir: Path) -> list[tuple[str, str]]:
    """Acknowledgments recorded in the assembly that suppressed no finding, sorted by path."""
    return sorted(recorded_acknowledgments(outdir) - used_acknowledgments(outdir), key=lambda item: (item[1], item[0]))


def check_acknowledgments(outdir: Path) -> None:
    """Raise :class:`StaleAcknowledgmentError` naming every stale acknowledgment of a synthesized assembly."""
    stale = stale_acknowledgments(outdir)
    if stale:
        lines = "\n".join(f"  {path}: {rule}" for rule, path in stale)
        raise StaleAcknowledgmentError(
            f"{len(stale)} nag acknowledgment(s) suppress no finding; remove them (or the change that made "
            f"them stale is a mistake):\n{lines}"
        )
