"""UnilakeChecks: our own cdk-nag pack. The rules are data; each is a pure function in its own module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import jsii
from aws_cdk import CfnResource
from cdk_nag import IApplyRule, NagMessageLevel, NagPack, NagRuleCompliance
from constructs import IConstruct

from . import flink_checkpointing, s3_tls_only

PACK_NAME = "Unilake"


@dataclass(frozen=True)
class NagRule:
    suffix: str
    info: str
    explanation: str
    check: Callable[[CfnResource], NagRuleCompliance]
    level: NagMessageLevel = NagMessageLevel.ERROR

    @property
    def rule_id(self) -> str:
        return f"{PACK_NAME}-{self.suffix}"


RULES: tuple[NagRule, ...] = (
    NagRule("S3TLS", s3_tls_only.INFO, s3_tls_only.EXPLANATION, s3_tls_only.s3_tls_only),
    NagRule(
        "FlinkCheckpoints",
        flink_checkpointing.INFO,
        flink_checkpointing.EXPLANATION,
        flink_checkpointing.flink_checkpointing,
    ),
)


@jsii.implements(IApplyRule)
class _AppliedRule:
    """One rule applied to one resource, in the shape cdk-nag's applyRule expects over jsii."""

    def __init__(self, rule: NagRule, node: CfnResource) -> None:
        self._rule = rule
        self._node = node

    @property
    def node(self) -> CfnResource:
        return self._node

    @property
    def rule_suffix_override(self) -> str:
        return self._rule.suffix

    @property
    def info(self) -> str:
        return self._rule.info

    @property
    def explanation(self) -> str:
        return self._rule.explanation

    @property
    def level(self) -> NagMessageLevel:
        return self._rule.level

    def rule(self, node: CfnResource) -> NagRuleCompliance:
        return self._rule.check(node)


class UnilakeChecks(NagPack):
    """Rules cdk-nag's packs lack: TLS 1.2-only buckets, Managed Flink checkpointing and snapshots."""

    def __init__(self, scope: IConstruct | None = None, *, rules: tuple[NagRule, ...] = RULES) -> None:
        super().__init__(scope)
        self._pack_name = PACK_NAME
        self._rules = rules

    @property
    def name(self) -> str:
        return PACK_NAME

    @jsii.member(jsii_name="checkResource")
    def _check_resource(self, node: CfnResource) -> None:
        for rule in self._rules:
            self._apply_rule(cast(IApplyRule, _AppliedRule(rule, node)))
