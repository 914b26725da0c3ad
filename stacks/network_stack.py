"""The network stack: the private VPC the Flink application runs in, its endpoints and flow logs."""

from __future__ import annotations

from aws_cdk import CfnResource, Fn, Stack
from constructs import Construct

from cdk_constructs.network import Network
from unilake_config import EnvironmentConfig


def flow_log_group_name(config: EnvironmentConfig) -> str:
    return f"/unilake/{config.name}/vpc-flow-logs"


class NetworkStack(Stack):
    network: Network

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> None:
        self._max_azs = config.network.max_azs
        super().__init__(
            scope,
            construct_id,
            description=f"unilake {config.name}: private VPC without internet route, VPC endpoints, flow logs",
            termination_protection=config.termination_protection,
        )
        self.network = Network(
            self,
            "Network",
            cidr=config.network.cidr,
            max_azs=config.network.max_azs,
            flow_log_group_name=flow_log_group_name(config),
            flow_log_retention_days=config.network.flow_log_retention_days,
            # Fixed names, so the network does not wait for the lake stack (config.lake_bucket_name).
            s3_bucket_names=[config.lake_bucket_name],
            removal_policy=config.cdk_removal_policy,
        )
        self._drop_redundant_depends_on()

    @property
    def availability_zones(self) -> list[str]:
        """The first ``max_azs`` zones as ``Fn::GetAZs`` picks them at deploy time, not names
        looked up at synth (cfn-lint W3010: hard-coded availability zones)."""
        return [Fn.select(index, Fn.get_azs()) for index in range(self._max_azs)]

    def _drop_redundant_depends_on(self) -> None:
        """CDK's provider for ``restrict_default_security_group`` gives its handler a DependsOn on
        its role that the handler's ``Fn::GetAtt`` on that role already implies (cfn-lint W3005)."""
        provider = self.node.try_find_child("Custom::VpcRestrictDefaultSGCustomResourceProvider")
        if provider is None:
            return
        handler, role = provider.node.try_find_child("Handler"), provider.node.try_find_child("Role")
        if isinstance(handler, CfnResource) and isinstance(role, CfnResource):
            handler.remove_resource_dependency(role)
