"""ApplicationStarter: starts a Managed Service for Apache Flink application after every deployment.

CloudFormation creates an ``AWS::KinesisAnalyticsV2::Application`` in READY and never starts it. This
construct adds a custom resource, run by the CDK Provider framework's asynchronous pattern (``on_event``
once, then ``is_complete`` every ``QUERY_INTERVAL`` until ``timeout``), that starts the application when it
is stopped (restoring the latest snapshot), waits until it is RUNNING and otherwise fails the deployment
with the application's status; on delete it stops the application gracefully, which takes a snapshot.
The handlers are in ``runtime/handler.py``.

IAM: the handlers may describe, start and stop this one application, list its snapshots and read its
operations, on its ARN only, and write to their own log groups; the roles are ours, so no AWS managed policy
is attached. The Provider framework's own Lambda functions get roles from here too (scoped log writing
instead of ``AWSLambdaBasicExecutionRole``); the framework adds to them ``lambda:InvokeFunction`` on the two
handlers (``<arn>`` and ``<arn>:*``, i.e. their versions and aliases), ``lambda:GetFunction`` on the
handlers and ``states:StartExecution`` on its waiter state machine, whose role may invoke the framework's
``isComplete``/``onTimeout`` functions (``<arn>`` and ``<arn>:*``). The waiter state machine's logging is
left off: turning it on makes the framework grant CloudWatch Logs delivery actions on ``*``.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CfnResource, CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from constructs import Construct

from nag_rules import reasons
from nag_rules.acknowledgments import acknowledge, acknowledge_wildcard_resources, flatten_cfn_reference

RUNTIME_DIR = Path(__file__).resolve().parent / "runtime"
RESOURCE_TYPE = "Custom::FlinkApplicationStarter"

HANDLER_ACTIONS = (
    "kinesisanalytics:DescribeApplication",
    "kinesisanalytics:StartApplication",
    "kinesisanalytics:StopApplication",
    "kinesisanalytics:ListApplicationSnapshots",
    # Read the service's own error of a failed start or update, to fail the deployment with it.
    "kinesisanalytics:ListApplicationOperations",
    "kinesisanalytics:DescribeApplicationOperation",
)
LOG_WRITE_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
DEFAULT_TIMEOUT = Duration.minutes(30)
QUERY_INTERVAL = Duration.seconds(30)
# Each handler invocation is a few API calls; the waiting happens between invocations.
HANDLER_TIMEOUT = Duration.minutes(2)
# CloudFormation waits at most an hour for a custom resource (ServiceTimeout ≤ 3600 s); keep headroom
# so the Provider reports its own "Operation timed out" first.
MAX_TIMEOUT = Duration.minutes(55)
SERVICE_TIMEOUT_MARGIN = Duration.minutes(5)


class ApplicationStarter(Construct):
    """Starts ``application_name`` on create and on every update, and stops it on delete.

    - ``application_name``: pass the ``CfnApplication``'s ``ref`` so the custom resource depends on the
      application and runs after it is created or updated.
    - ``update_token``: any string that changes whenever the application changes (e.g. a hash of its code
      asset and configuration). ``AWS::KinesisAnalyticsV2::Application`` has no version attribute to use
      instead. Without a change here, an update of the application alone does not run the handlers.
    - ``allow_non_restored_state``: ``FlinkRunConfiguration.AllowNonRestoredState`` for starts.
    - ``timeout``: how long a start or stop may take before the deployment fails (at most 55 minutes).
    - ``stop_on_delete``: deleting the custom resource stops the application gracefully. That also
      happens when this construct is removed or its id changes while the application stays: deploy once
      with ``stop_on_delete=False`` before such a change.
    - ``log_retention``, ``log_encryption_key``, ``log_removal_policy``: for the log groups created here.
    - ``application_key``: the customer-managed key the application is encrypted with, if any. Starting or
      stopping such an application uses the key through Managed Flink on the caller's behalf, so the handlers
      get AWS's documented "application lifecycle operator" permissions on it, limited to Managed Flink
      (``kms:ViaService``) and this application (encryption context) (Managed Flink developer guide,
      "Managing CMK using APIs").

    Every created resource is a public attribute.
    """

    handler_role: iam.Role
    handler_policy: iam.ManagedPolicy
    on_event_log_group: logs.LogGroup
    is_complete_log_group: logs.LogGroup
    on_event_function: lambda_.Function
    is_complete_function: lambda_.Function
    framework_log_group: logs.LogGroup
    framework_on_event_role: iam.Role
    framework_complete_and_timeout_role: iam.Role
    provider: cr.Provider
    resource: CustomResource

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        application_name: str,
        application_arn: str,
        allow_non_restored_state: bool,
        update_token: str,
        timeout: Duration = DEFAULT_TIMEOUT,
        stop_on_delete: bool = True,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        log_encryption_key: kms.IKey | None = None,
        application_key: kms.IKey | None = None,
        log_removal_policy: RemovalPolicy = RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    ) -> None:
        super().__init__(scope, construct_id)
        if timeout.to_seconds() > MAX_TIMEOUT.to_seconds():
            raise ValueError(
                f"timeout must be at most {MAX_TIMEOUT.to_minutes()} minutes: CloudFormation waits an hour "
                f"at most for a custom resource; got {timeout.to_human_string()}"
            )
        self._log_retention = log_retention
        self._log_encryption_key = log_encryption_key
        self._log_removal_policy = log_removal_policy

        self.handler_role = iam.Role(
            self,
            "HandlerRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Describes, starts and stops one Managed Flink application; writes its own logs",
        )
        # A customer-managed policy, not the role's inline default policy (HIPAA/NIST/PCI
        # IAMNoInlinePolicy). This one application, nothing else.
        self.handler_policy = iam.ManagedPolicy(
            self,
            "HandlerPolicy",
            roles=[self.handler_role],
            statements=[iam.PolicyStatement(actions=list(HANDLER_ACTIONS), resources=[application_arn])],
        )
        if application_key is not None:
            self.handler_policy.add_statements(*_application_key_statements(application_key, application_arn))
        self.on_event_log_group = self._log_group("OnEventLogs")
        self.is_complete_log_group = self._log_group("IsCompleteLogs")
        self.on_event_function = self._function("OnEvent", "handler.on_event", self.on_event_log_group)
        self.is_complete_function = self._function("IsComplete", "handler.is_complete", self.is_complete_log_group)

        self.framework_log_group = self._log_group("ProviderLogs")
        self.framework_on_event_role = self._framework_role("FrameworkOnEventRole")
        self.framework_complete_and_timeout_role = self._framework_role("FrameworkCompleteAndTimeoutRole")
        self.provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=self.on_event_function,
            is_complete_handler=self.is_complete_function,
            query_interval=QUERY_INTERVAL,
            total_timeout=timeout,
            log_group=self.framework_log_group,
            framework_on_event_role=self.framework_on_event_role,
            framework_complete_and_timeout_role=self.framework_complete_and_timeout_role,
        )

        self.resource = CustomResource(
            self,
            "Resource",
            service_token=self.provider.service_token,
            resource_type=RESOURCE_TYPE,
            service_timeout=timeout.plus(SERVICE_TIMEOUT_MARGIN),
            properties={
                "ApplicationName": application_name,
                "AllowNonRestoredState": allow_non_restored_state,
                "StopOnDelete": stop_on_delete,
                "UpdateToken": update_token,
            },
        )
        # The handlers' permissions come from a managed policy, which nothing else orders before them.
        self.resource.node.add_dependency(self.handler_policy)
        self._accept_redundant_depends_on()
        self._acknowledge_findings()

    def _acknowledge_findings(self) -> None:
        """What the CDK Provider framework makes and we accept, on the resources it concerns (reasons in
        ``nag_rules.reasons``): the five functions' Lambda findings, the framework's inline default policies,
        their ``:*`` on this construct's own functions (versions and aliases), and the waiter's logging/X-Ray."""
        children = self.node.find_all()
        functions = [child for child in children if isinstance(child, lambda_.CfnFunction)]
        for function in functions:
            for pack in ("HIPAA.Security", "NIST.800.53.R5"):
                acknowledge(function, f"{pack}-LambdaConcurrency", reason=reasons.STARTER_LAMBDA_CONCURRENCY)
                acknowledge(function, f"{pack}-LambdaDLQ", reason=reasons.STARTER_LAMBDA_DLQ)
            for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321"):
                acknowledge(function, f"{pack}-LambdaInsideVPC", reason=reasons.STARTER_LAMBDA_OUTSIDE_VPC)
        stack = Stack.of(self)
        # "<function ARN>:*" of our own functions, as the framework's grantInvoke writes it.
        own_versions = {
            flatten_cfn_reference(stack.resolve(arn)): arn for arn in (f"{fn.attr_arn}:*" for fn in functions)
        }
        for policy in (child for child in children if isinstance(child, iam.CfnPolicy)):
            for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321"):
                acknowledge(policy, f"{pack}-IAMNoInlinePolicy", reason=reasons.STARTER_INLINE_POLICY)
            document = stack.resolve(policy.policy_document)
            granted = {
                flatten_cfn_reference(resource)
                for statement in document.get("Statement", [])
                for resource in _as_list(statement.get("Resource"))
            }
            acknowledge_wildcard_resources(
                policy,
                [arn for finding, arn in own_versions.items() if finding in granted],
                reason=reasons.STARTER_INVOKE_VERSIONS,
            )
        for state_machine in (child for child in children if isinstance(child, sfn.CfnStateMachine)):
            acknowledge(state_machine, "AwsSolutions-SF1", reason=reasons.STARTER_WAITER_LOGGING)
            acknowledge(state_machine, "AwsSolutions-SF2", reason=reasons.STARTER_WAITER_TRACING)

    def _accept_redundant_depends_on(self) -> None:
        """CDK gives each Lambda function (and the waiter state machine) a DependsOn on its role that its
        ``Fn::GetAtt`` of that role already implies; cfn-lint warns (W3005). The DependsOn is added from
        construct-level dependencies while the app is prepared for synthesis, after this constructor, so it
        cannot be removed here: tell cfn-lint, on these resources only, that it is expected."""
        for function in (self.on_event_function, self.is_complete_function):
            self._ignore_cfn_lint(function.node.default_child, "W3005")
        for child in self.provider.node.find_all():
            if isinstance(child, (lambda_.CfnFunction, sfn.CfnStateMachine)):
                self._ignore_cfn_lint(child, "W3005")

    @staticmethod
    def _ignore_cfn_lint(resource: object, rule: str) -> None:
        assert isinstance(resource, CfnResource)
        resource.add_metadata("cfn-lint", {"config": {"ignore_checks": [rule]}})

    def _log_group(self, construct_id: str) -> logs.LogGroup:
        return logs.LogGroup(
            self,
            construct_id,
            retention=self._log_retention,
            encryption_key=self._log_encryption_key,
            removal_policy=self._log_removal_policy,
        )

    def _function(self, construct_id: str, handler: str, log_group: logs.LogGroup) -> lambda_.Function:
        # Our role, so CDK attaches no AWSLambdaBasicExecutionRole: write to this log group only (its
        # ARN as CloudFormation returns it ends in ":*", which covers its streams).
        self.handler_policy.add_statements(
            iam.PolicyStatement(actions=list(LOG_WRITE_ACTIONS), resources=[log_group.log_group_arn])
        )
        return lambda_.Function(
            self,
            construct_id,
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler=handler,
            code=lambda_.Code.from_asset(str(RUNTIME_DIR), exclude=["__pycache__", "*.pyc"]),
            role=self.handler_role,
            timeout=HANDLER_TIMEOUT,
            memory_size=256,
            log_group=log_group,
            description=f"Managed Flink application starter: {handler.rsplit('.', 1)[-1]}",
        )

    def _framework_role(self, construct_id: str) -> iam.Role:
        """A role for the Provider's own functions, with log writing scoped to their log group."""
        role = iam.Role(self, construct_id, assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        role.add_to_policy(
            iam.PolicyStatement(actions=list(LOG_WRITE_ACTIONS), resources=[self.framework_log_group.log_group_arn])
        )
        return role


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]


def _application_key_statements(key: kms.IKey, application_arn: str) -> list[iam.PolicyStatement]:
    """The operator permissions of "Managing CMK using APIs" (Managed Flink developer guide), on one key."""
    via = {"kms:ViaService": f"kinesisanalytics.{Stack.of(key).region}.amazonaws.com"}
    context = {**via, "kms:EncryptionContext:aws:kinesisanalytics:arn": application_arn}
    return [
        iam.PolicyStatement(
            sid="DescribeTheApplicationKeyViaManagedFlink",
            actions=["kms:DescribeKey"],
            resources=[key.key_arn],
            conditions={"StringEquals": via},
        ),
        iam.PolicyStatement(
            sid="UseTheApplicationKeyForItsStateViaManagedFlink",
            actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"],
            resources=[key.key_arn],
            conditions={"StringEquals": context},
        ),
        iam.PolicyStatement(
            sid="GrantDecryptOfTheApplicationStateViaManagedFlink",
            actions=["kms:CreateGrant"],
            resources=[key.key_arn],
            conditions={
                "StringEquals": {**context, "kms:GrantConstraintType": "EncryptionContextSubset"},
                "ForAllValues:StringEquals": {"kms:GrantOperations": "Decrypt"},
            },
        ),
    ]
