"""One environment = one Stage, so `cdk synth` builds them all and `cdk deploy 'prod/*'` deploys one."""

from __future__ import annotations

from aws_cdk import Environment as CdkEnvironment
from aws_cdk import Stage, Tags
from constructs import Construct

from unilake_config import Environment

from .lake_stack import LakeStack


class UnilakeStage(Stage):
    lake: LakeStack

    def __init__(self, scope: Construct, *, environment: Environment) -> None:
        config = environment.config
        super().__init__(
            scope,
            config.name,
            env=CdkEnvironment(account=config.account, region=config.region),
        )
        Tags.of(self).add("project", "unilake")
        Tags.of(self).add("environment", config.name)
        self.lake = LakeStack(self, "lake", config=config)
