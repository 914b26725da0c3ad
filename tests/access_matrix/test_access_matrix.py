"""The access matrix (matrix.yaml), evaluated by @cloud-copilot/iam-simulate over every environment.

Each row is one request: a principal of unilake, an action, a resource, the request context it really sends,
and whether AWS must allow or deny it. The policies come from the shared synthesis (tests/conftest.py),
intrinsics resolved by cfn_resolve.py: the principal's identity policies (its role's managed, inline and
attached policies), the resource's policy (bucket policy, key policy, topic policy) and, for calls the job
makes from its VPC, the endpoint's policy. All rows of all environments go to ONE Node process
(simulate.mjs). A row whose policies cannot be resolved, whose simulation reports an input error, or whose
context names a key that does not apply to the action fails: nothing is judged on a guess.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.access_matrix.cfn_resolve import EnvironmentTemplates, StackTemplate, UnresolvableError
from tests.conftest import Synthesis

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MATRIX_PATH = HERE / "matrix.yaml"
SIMULATOR = HERE / "simulate.mjs"
ENVIRONMENTS = ("dev", "staging", "prod")
EXPECTED = {"allowed": {"Allowed"}, "denied": {"ExplicitlyDenied", "ImplicitlyDenied"}}
ADMINISTRATOR_ACCESS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@functools.cache
def load_matrix() -> dict[str, Any]:
    matrix: dict[str, Any] = yaml.safe_load(MATRIX_PATH.read_text())
    return matrix


def _rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = load_matrix()["calls"]
    return rows


# --- the matrix itself is readable, complete data ------------------------------------------------------------


def test_every_row_names_a_known_principal_an_expectation_and_its_source() -> None:
    matrix = load_matrix()
    principals = matrix["principals"]
    ids = [row["id"] for row in matrix["calls"]]
    assert len(ids) == len(set(ids)), "duplicate row ids"
    for row in matrix["calls"]:
        assert set(row) <= {"id", "principal", "action", "resource", "context", "expect", "source"}, row["id"]
        assert row["principal"] in principals, row["id"]
        assert row["expect"] in EXPECTED, row["id"]
        assert str(row.get("source", "")).strip(), f"{row['id']}: no source"
    for name in principals:
        expectations = {row["expect"] for row in matrix["calls"] if row["principal"] == name}
        assert "allowed" in expectations, f"{name}: no call it must be able to make"


# --- building the simulations ------------------------------------------------------------------------------------


@dataclass
class EnvironmentModel:
    """One environment's templates, resolved, and what the matrix's placeholders stand for."""

    name: str
    templates: EnvironmentTemplates
    values: dict[str, str]
    synthesis: Synthesis

    def locate(self, path: str) -> tuple[str, str]:
        """(stack name, logical id) of the CloudFormation resource under construct ``<stack id>/<path>``."""
        from aws_cdk import CfnElement

        stack_id, *parts = path.split("/")
        stack = self.synthesis.stack(self.name, stack_id)
        node: Any = stack
        for part in parts:
            node = node.node.find_child(part)
        element = node if isinstance(node, CfnElement) else node.node.default_child
        if not isinstance(element, CfnElement):
            raise UnresolvableError(f"{self.name}/{path}: no CloudFormation resource under this construct")
        return stack.stack_name, str(stack.resolve(element.logical_id))

    def arn(self, path: str) -> str:
        stack_name, logical_id = self.locate(path)
        return self.templates.get_att(stack_name, logical_id, "Arn")

    def fill(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        text = str(value)

        def substitute(match: re.Match[str]) -> str:
            key = match.group(1)
            if key.startswith("arn:"):
                return self.arn(key.removeprefix("arn:"))
            if key not in self.values:
                raise UnresolvableError(f"{MATRIX_PATH.name}: unknown placeholder {{{key}}}")
            return self.values[key]

        return re.sub(r"\{([^{}]+)\}", substitute, text)

    # -- policies --

    def identity_policies(self, stack_name: str, role_logical_id: str) -> list[dict[str, Any]]:
        """Every policy attached to one role: inline, AWS::IAM::Policy and AWS::IAM::ManagedPolicy of its stack."""
        template = self.templates.stacks[stack_name].template
        role = template["Resources"][role_logical_id]
        role_ref = {"Ref": role_logical_id}
        found: list[dict[str, Any]] = []
        for index, inline in enumerate(role.get("Properties", {}).get("Policies", [])):
            found.append({"name": f"{role_logical_id}-inline-{index}", "policy": inline["PolicyDocument"]})
        attached = role.get("Properties", {}).get("ManagedPolicyArns", [])
        for logical_id, resource in template["Resources"].items():
            kind = resource["Type"]
            roles = resource.get("Properties", {}).get("Roles", [])
            is_attached = {"Ref": logical_id} in attached
            if kind in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"} and (role_ref in roles or is_attached):
                found.append({"name": logical_id, "policy": resource["Properties"]["PolicyDocument"]})
        foreign = [arn for arn in attached if not (isinstance(arn, dict) and "Ref" in arn)]
        if foreign:
            raise UnresolvableError(f"{stack_name}/{role_logical_id}: managed policies not in the template: {foreign}")
        return [{"name": p["name"], "policy": self.templates.resolve(stack_name, p["policy"])} for p in found]

    @functools.cached_property
    def resource_policies(self) -> dict[str, dict[str, Any]]:
        """Bucket name, key ARN or topic ARN -> its resource policy, over every stack of the environment."""
        policies: dict[str, dict[str, Any]] = {}
        for stack_name, stack in self.templates.stacks.items():
            for logical_id, resource in stack.template.get("Resources", {}).items():
                props = resource.get("Properties", {})
                kind = resource["Type"]
                if kind == "AWS::S3::BucketPolicy":
                    bucket = str(self.templates.resolve(stack_name, props["Bucket"]))
                    policies[f"s3:{bucket}"] = self.templates.resolve(stack_name, props["PolicyDocument"])
                elif kind == "AWS::KMS::Key":
                    arn = self.templates.get_att(stack_name, logical_id, "Arn")
                    policies[arn] = self.templates.resolve(stack_name, props["KeyPolicy"])
                elif kind == "AWS::SNS::TopicPolicy":
                    for topic in self.templates.resolve(stack_name, props["Topics"]):
                        policies[str(topic)] = self.templates.resolve(stack_name, props["PolicyDocument"])
        return policies

    def resource_policy(self, arn: str) -> dict[str, Any] | None:
        if arn.startswith(f"arn:{self.templates.partition}:s3:::"):
            bucket = arn.split(":::", 1)[1].split("/", 1)[0]
            return self.resource_policies.get(f"s3:{bucket}")
        if ":kms:" in arn:
            if arn not in self.resource_policies:
                raise UnresolvableError(f"{self.name}: no key policy for {arn} in the templates")
            return self.resource_policies[arn]
        return self.resource_policies.get(arn)

    def endpoint_policy(self, path: str) -> dict[str, Any]:
        stack_name, logical_id = self.locate(path)
        resource = self.templates.resource(stack_name, logical_id)
        document: dict[str, Any] = self.templates.resolve(stack_name, resource["Properties"]["PolicyDocument"])
        # CDK writes AnyPrincipal as {"AWS": "*"}; an endpoint policy means the same by "*", the only form
        # iam-simulate accepts there.
        for statement in document.get("Statement", []):
            if statement.get("Principal") == {"AWS": "*"}:
                statement["Principal"] = "*"
        return document


def environment_model(synthesis: Synthesis, env: str) -> EnvironmentModel:
    from cdk_constructs.network import cdk_asset_bucket_name
    from stacks.streaming_stack import StreamingStack

    stage = synthesis.stages[env]
    config = stage.config
    stacks = {}
    for env_name, stack in synthesis.stacks():
        if env_name == env:
            stacks[stack.stack_name] = StackTemplate(stack.stack_name, synthesis.template_json(env, stack.node.id))
    templates = EnvironmentTemplates(account=config.account, region=config.region, stacks=stacks)
    streaming = synthesis.stack(env, "streaming")
    assert isinstance(streaming, StreamingStack)
    settings, code = streaming.settings, streaming.code.asset
    values = {
        "partition": templates.partition,
        "account": config.account,
        "region": config.region,
        "lake_bucket": config.lake_bucket_name,
        "access_log_bucket": config.access_log_bucket_name,
        "database": config.catalog.database_name,
        "source_table": settings.source_table,
        "sales_table": settings.sales_table,
        "fraud_table": settings.fraud_table,
        "quarantine_table": settings.quarantine_table,
        "application": config.flink.application_name,
        "backfill_application": config.flink.backfill_application_name,
        "asset_bucket": cdk_asset_bucket_name(config.account, config.region),
        "code_object_key": code.s3_object_key,
    }
    return EnvironmentModel(name=env, templates=templates, values=values, synthesis=synthesis)


def build_simulation(model: EnvironmentModel, row: dict[str, Any]) -> dict[str, Any]:
    matrix = load_matrix()
    principal_spec = matrix["principals"][row["principal"]]
    action = str(row["action"])
    service = action.split(":", 1)[0]
    defaults = matrix["defaults"]
    context: dict[str, Any] = {
        **defaults.get("context", {}),
        **defaults.get("context_by_service", {}).get(service, {}),
        **(row.get("context") or {}),
    }
    identity_policies: list[dict[str, Any]] = []
    endpoint_policies: list[dict[str, Any]] = []
    if "role" in principal_spec:
        stack_name, logical_id = model.locate(principal_spec["role"])
        principal = model.templates.get_att(stack_name, logical_id, "Arn")
        identity_policies = model.identity_policies(stack_name, logical_id)
        endpoint = principal_spec.get("vpc_endpoints", {}).get(service)
        if endpoint is not None:
            endpoint_policies = [{"name": endpoint, "policy": model.endpoint_policy(endpoint)}]
    elif "arn" in principal_spec:
        principal = model.fill(principal_spec["arn"])
        if principal_spec.get("administrator"):
            identity_policies = [{"name": "AdministratorAccess", "policy": ADMINISTRATOR_ACCESS}]
    else:
        principal = str(principal_spec["service"])
    if not principal.endswith(".amazonaws.com"):
        # What AWS puts in every request context of an IAM principal (iam-simulate does not derive them).
        context.setdefault("aws:PrincipalArn", principal)
        context.setdefault("aws:PrincipalAccount", model.values["account"])
    resource = model.fill(row["resource"])
    simulation: dict[str, Any] = {
        "request": {
            "principal": principal,
            "action": action,
            "resource": {"resource": resource, "accountId": model.values["account"]},
            "contextVariables": {key: model.fill(value) for key, value in context.items()},
        },
        "identityPolicies": identity_policies,
        "serviceControlPolicies": [],
        "resourceControlPolicies": [],
    }
    policy = model.resource_policy(resource)
    if policy is not None:
        simulation["resourcePolicy"] = policy
    if endpoint_policies:
        simulation["vpcEndpointPolicies"] = endpoint_policies
    return simulation


def run_simulator(cases: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    node = shutil.which("node")
    assert node is not None, "node is needed for the access matrix (make setup installs the npm dev dependencies)"
    completed = subprocess.run(  # one process for every row of every environment
        [node, str(SIMULATOR)],
        input=json.dumps({"cases": cases}),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=300,
    )
    assert completed.returncode == 0, f"simulate.mjs failed:\n{completed.stderr}"
    return {result["id"]: result for result in json.loads(completed.stdout)}


@dataclass(frozen=True)
class MatrixRun:
    results: dict[str, dict[str, Any]]
    build_errors: dict[str, str]
    simulations: dict[str, dict[str, Any]]


@pytest.fixture(scope="session")
def matrix_run(synthesis: Synthesis) -> MatrixRun:
    cases, errors, simulations = [], {}, {}
    for env in ENVIRONMENTS:
        model = environment_model(synthesis, env)
        for row in _rows():
            case_id = f"{env}:{row['id']}"
            try:
                simulation = build_simulation(model, row)
            except UnresolvableError as error:
                errors[case_id] = str(error)
                continue
            simulations[case_id] = simulation
            cases.append({"id": case_id, "simulation": simulation})
    return MatrixRun(results=run_simulator(cases), build_errors=errors, simulations=simulations)


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("row", _rows(), ids=lambda row: row["id"])
def test_access_matrix(matrix_run: MatrixRun, env: str, row: dict[str, Any]) -> None:
    case_id = f"{env}:{row['id']}"
    assert case_id not in matrix_run.build_errors, f"cannot resolve: {matrix_run.build_errors.get(case_id)}"
    result = matrix_run.results[case_id]
    request = json.dumps(matrix_run.simulations[case_id]["request"], indent=1)
    assert result["resultType"] != "error", f"the simulator refused the input: {json.dumps(result['errors'])}"
    assert result["ignoredContextKeys"] == [], (
        f"context keys that do not apply to {row['action']}: {result['ignoredContextKeys']}"
    )
    assert result["overallResult"] in EXPECTED[row["expect"]], (
        f"{row['principal']} {row['action']} on {row['resource']}: expected {row['expect']}, the simulator says "
        f"{result['overallResult']} (source: {row['source']})\nrequest: {request}"
    )
