"""Resolve the intrinsics of one environment's synthesized templates to concrete values.

The access matrix hands policies to an IAM simulator, which knows nothing of CloudFormation: every
``Ref``, ``Fn::GetAtt``, ``Fn::Join``, ``Fn::Sub``, ``Fn::Select``, ``Fn::Split``, ``Fn::GetAZs``,
``Fn::ImportValue`` and ``Fn::GetStackOutput`` (CDK's cross-stack reference) must become a string first.
Pseudo parameters take the environment's placeholder account and region; a resource's physical name is
its name property when the template sets one, otherwise a placeholder derived from its logical id (what
CloudFormation would generate is unknowable offline, and only equality matters to the simulator).

Anything this module does not know (an intrinsic, a resource type's ``Ref`` or attribute, a missing
output or export) raises :class:`UnresolvableError` naming the stack, the logical id and the value:
a policy that cannot be resolved is never simulated with a guess.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"


class UnresolvableError(ValueError):
    """An intrinsic or reference the resolver does not know how to turn into a value."""


@dataclass(frozen=True)
class StackTemplate:
    stack_name: str
    template: Mapping[str, Any]


def _names(physical: str) -> str:
    return physical.lower()


@dataclass
class EnvironmentTemplates:
    """Every stack of one environment (same account and region), addressable by stack name."""

    account: str
    region: str
    stacks: dict[str, StackTemplate]
    partition: str = PARTITION
    _exports: dict[str, tuple[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, stack in self.stacks.items():
            for output in stack.template.get("Outputs", {}).values():
                export = output.get("Export")
                if export is not None:
                    self._exports[str(self.resolve(name, export["Name"]))] = (name, output["Value"])

    # --- public --------------------------------------------------------------------------------

    def resource(self, stack_name: str, logical_id: str) -> Mapping[str, Any]:
        resources = self._stack(stack_name).template.get("Resources", {})
        if logical_id not in resources:
            raise UnresolvableError(f"{stack_name}: no resource {logical_id!r}")
        resource: Mapping[str, Any] = resources[logical_id]
        return resource

    def resolve(self, stack_name: str, value: Any) -> Any:
        """``value`` with every intrinsic resolved, in the context of ``stack_name``."""
        if isinstance(value, list):
            return [self.resolve(stack_name, item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self._ref(stack_name, argument)
            if key.startswith("Fn::"):
                return self._function(stack_name, key, argument)
        return {key: self.resolve(stack_name, item) for key, item in value.items()}

    def ref(self, stack_name: str, logical_id: str) -> str:
        return str(self._ref(stack_name, logical_id))

    def get_att(self, stack_name: str, logical_id: str, attribute: str) -> str:
        return self._get_att(stack_name, logical_id, attribute)

    # --- intrinsics ----------------------------------------------------------------------------

    def _stack(self, stack_name: str) -> StackTemplate:
        if stack_name not in self.stacks:
            raise UnresolvableError(f"no stack named {stack_name!r} in this environment ({sorted(self.stacks)})")
        return self.stacks[stack_name]

    def _function(self, stack_name: str, name: str, argument: Any) -> Any:
        if name == "Fn::GetAtt":
            logical_id, attribute = argument if isinstance(argument, list) else str(argument).split(".", 1)
            return self._get_att(stack_name, str(logical_id), str(self.resolve(stack_name, attribute)))
        if name == "Fn::Join":
            delimiter, items = argument
            parts = self.resolve(stack_name, items)
            if not isinstance(parts, list):
                raise UnresolvableError(f"{stack_name}: Fn::Join over a non-list {parts!r}")
            return str(delimiter).join(str(part) for part in parts)
        if name == "Fn::Select":
            index, items = argument
            resolved = self.resolve(stack_name, items)
            position = int(self.resolve(stack_name, index))
            if not isinstance(resolved, list) or not 0 <= position < len(resolved):
                raise UnresolvableError(f"{stack_name}: Fn::Select {position} out of {resolved!r}")
            return resolved[position]
        if name == "Fn::Split":
            delimiter, source = argument
            return str(self.resolve(stack_name, source)).split(str(delimiter))
        if name == "Fn::GetAZs":
            return [f"{self.region}{suffix}" for suffix in "abc"]
        if name == "Fn::Sub":
            return self._sub(stack_name, argument)
        if name == "Fn::ImportValue":
            export = str(self.resolve(stack_name, argument))
            if export not in self._exports:
                raise UnresolvableError(f"{stack_name}: Fn::ImportValue {export!r}: no stack exports it")
            exporting_stack, exported = self._exports[export]
            return self.resolve(exporting_stack, exported)
        if name == "Fn::GetStackOutput":
            return self._stack_output(stack_name, argument)
        raise UnresolvableError(f"{stack_name}: intrinsic {name} is not supported: {argument!r}")

    def _stack_output(self, stack_name: str, argument: Mapping[str, Any]) -> Any:
        other = str(self.resolve(stack_name, argument["StackName"]))
        region = str(self.resolve(stack_name, argument.get("Region", self.region)))
        if region != self.region:
            raise UnresolvableError(f"{stack_name}: Fn::GetStackOutput from another region ({region})")
        output_name = str(self.resolve(stack_name, argument["OutputName"]))
        outputs = self._stack(other).template.get("Outputs", {})
        if output_name not in outputs:
            raise UnresolvableError(f"{stack_name}: Fn::GetStackOutput: {other} has no output {output_name!r}")
        return self.resolve(other, outputs[output_name]["Value"])

    def _sub(self, stack_name: str, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        resolved_variables = {key: self.resolve(stack_name, item) for key, item in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in resolved_variables:
                return str(resolved_variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return self._get_att(stack_name, logical_id, attribute)
            return str(self._ref(stack_name, name))

        return re.sub(r"\$\{([^}]+)\}", substitute, str(text))

    def _ref(self, stack_name: str, name: Any) -> Any:
        name = str(name)
        pseudo = {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": URL_SUFFIX,
            "AWS::StackName": stack_name,
        }
        if name in pseudo:
            return pseudo[name]
        template = self._stack(stack_name).template
        parameters = template.get("Parameters", {})
        if name in parameters:
            if "Default" not in parameters[name]:
                raise UnresolvableError(f"{stack_name}: parameter {name} has no default")
            return parameters[name]["Default"]
        resource = self.resource(stack_name, name)
        return self._physical_ref(stack_name, name, resource)

    def _property(self, stack_name: str, resource: Mapping[str, Any], key: str) -> str | None:
        value = resource.get("Properties", {}).get(key)
        return None if value is None else str(self.resolve(stack_name, value))

    def _generated(self, stack_name: str, logical_id: str) -> str:
        return _names(f"{stack_name}-{logical_id}")

    def _physical_ref(self, stack_name: str, logical_id: str, resource: Mapping[str, Any]) -> str:
        kind = resource["Type"]
        named = {
            "AWS::S3::Bucket": "BucketName",
            "AWS::IAM::Role": "RoleName",
            "AWS::Logs::LogGroup": "LogGroupName",
            "AWS::Logs::LogStream": "LogStreamName",
            "AWS::KinesisAnalyticsV2::Application": "ApplicationName",
            "AWS::Lambda::Function": "FunctionName",
            "AWS::CloudWatch::Alarm": "AlarmName",
            "AWS::CloudWatch::CompositeAlarm": "AlarmName",
            "AWS::Glue::Database": None,
            "AWS::Glue::Table": None,
        }
        if kind in named:
            key = named[kind]
            return (self._property(stack_name, resource, key) if key else None) or self._generated(
                stack_name, logical_id
            )
        if kind == "AWS::KMS::Key":
            return f"key-{self._generated(stack_name, logical_id)}"
        if kind == "AWS::SNS::Topic":
            topic = self._property(stack_name, resource, "TopicName") or self._generated(stack_name, logical_id)
            return f"arn:{self.partition}:sns:{self.region}:{self.account}:{topic}"
        if kind == "AWS::IAM::ManagedPolicy":
            name = self._property(stack_name, resource, "ManagedPolicyName") or self._generated(stack_name, logical_id)
            return f"arn:{self.partition}:iam::{self.account}:policy/{name}"
        if kind == "AWS::EC2::VPC":
            return f"vpc-{self._generated(stack_name, logical_id)}"
        if kind == "AWS::EC2::Subnet":
            return f"subnet-{self._generated(stack_name, logical_id)}"
        if kind == "AWS::EC2::SecurityGroup":
            return f"sg-{self._generated(stack_name, logical_id)}"
        if kind == "AWS::StepFunctions::StateMachine":
            name = self._generated(stack_name, logical_id)
            return f"arn:{self.partition}:states:{self.region}:{self.account}:stateMachine:{name}"
        raise UnresolvableError(f"{stack_name}: Ref to {logical_id} ({kind}) is not supported")

    def _get_att(self, stack_name: str, logical_id: str, attribute: str) -> str:
        resource = self.resource(stack_name, logical_id)
        kind = resource["Type"]
        ref = self._physical_ref(stack_name, logical_id, resource)
        p, region, account = self.partition, self.region, self.account
        arns = {
            "AWS::S3::Bucket": f"arn:{p}:s3:::{ref}",
            "AWS::KMS::Key": f"arn:{p}:kms:{region}:{account}:key/{ref}",
            "AWS::IAM::Role": f"arn:{p}:iam::{account}:role/{ref}",
            "AWS::Logs::LogGroup": f"arn:{p}:logs:{region}:{account}:log-group:{ref}:*",
            "AWS::Lambda::Function": f"arn:{p}:lambda:{region}:{account}:function:{ref}",
            "AWS::CloudWatch::Alarm": f"arn:{p}:cloudwatch:{region}:{account}:alarm:{ref}",
            "AWS::CloudWatch::CompositeAlarm": f"arn:{p}:cloudwatch:{region}:{account}:alarm:{ref}",
            "AWS::SNS::Topic": ref,
            "AWS::StepFunctions::StateMachine": ref,
        }
        if attribute == "Arn" and kind in arns:
            return arns[kind]
        if kind == "AWS::KMS::Key" and attribute == "KeyId":
            return ref
        if kind == "AWS::SNS::Topic" and attribute == "TopicArn":
            return ref
        if kind == "AWS::SNS::Topic" and attribute == "TopicName":
            return ref.rsplit(":", 1)[-1]
        if kind == "AWS::EC2::SecurityGroup" and attribute == "GroupId":
            return ref
        if kind == "AWS::S3::Bucket" and attribute == "DomainName":
            return f"{ref}.s3.{URL_SUFFIX}"
        if kind == "AWS::StepFunctions::StateMachine" and attribute == "Name":
            return ref.rsplit(":", 1)[-1]
        raise UnresolvableError(f"{stack_name}: Fn::GetAtt {logical_id}.{attribute} ({kind}) is not supported")
