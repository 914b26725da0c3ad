"""Every acknowledged cdk-nag finding in the app, in one visible place.

Each entry is narrow: one rule (with its ``[Resource::...]``/``[Action::...]`` part where the rule
has findings), on the constructs whose path matches a glob below an environment's Stage, with
the reason. An entry that matches no construct is an error, so stale acknowledgments cannot pile up.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

import aws_cdk as cdk
from constructs import IConstruct


@dataclass(frozen=True)
class Acknowledgment:
    path: str
    """Glob on the construct path below the Stage, e.g. ``lake/Lake/AccessLogs/Resource``."""
    rule: str
    reason: str


_REPLICATION = (
    "Cross-region replication is a disaster-recovery choice each adopter makes for its own regions and "
    "budget; the lake is versioned, KMS-encrypted and retained, so objects are recoverable in-region."
)

ACKNOWLEDGMENTS: tuple[Acknowledgment, ...] = (
    Acknowledgment("lake/Lake/*/Resource", "NIST.800.53.R5-S3BucketReplicationEnabled", _REPLICATION),
    Acknowledgment("lake/Lake/*/Resource", "HIPAA.Security-S3BucketReplicationEnabled", _REPLICATION),
    Acknowledgment("lake/Lake/*/Resource", "PCI.DSS.321-S3BucketReplicationEnabled", _REPLICATION),
)


def _below_stage(construct: IConstruct) -> str:
    stage = cdk.Stage.of(construct)
    prefix = f"{stage.node.path}/" if stage is not None and stage.node.path else ""
    return construct.node.path.removeprefix(prefix)


def acknowledge_findings(app: cdk.App, acknowledgments: tuple[Acknowledgment, ...] = ACKNOWLEDGMENTS) -> None:
    constructs = [c for c in app.node.find_all() if cdk.Stage.of(c) is not app]
    for ack in acknowledgments:
        matched = [c for c in constructs if fnmatchcase(_below_stage(c), ack.path)]
        if not matched:
            raise ValueError(f"stale nag acknowledgment: no construct matches {ack.path!r} for {ack.rule}")
        for construct in matched:
            cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=ack.rule, reason=ack.reason))
