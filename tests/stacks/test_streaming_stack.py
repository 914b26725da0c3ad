"""The streaming stack: the Managed Flink application as CloudFormation will receive it."""

from __future__ import annotations

import zipfile

import pytest
from aws_cdk import assertions
from aws_cdk.assertions import Match

from cdk_constructs.application_starter.construct import HANDLER_ACTIONS
from cdk_constructs.log_group_key import LOGS_STATEMENT_SID
from flink_app.unilake_job import properties as job
from stacks.streaming_stack import FLINK_APP_DIR, JAR_GUARD_PARAMETER, refuse_deploy_without_jar
from tests.conftest import Synthesis

PROD_APP = "arn:aws:kinesisanalytics:us-east-1:333333333333:application/unilake-prod"


def application(synthesis: Synthesis, env: str) -> dict:  # type: ignore[type-arg]
    template = synthesis.template_json(env, "streaming")
    (app,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::KinesisAnalyticsV2::Application"]
    return app["Properties"]  # type: ignore[no-any-return]


def test_runtime_code_and_run_options(synthesis: Synthesis) -> None:
    synthesis.template("prod", "streaming").has_resource_properties(
        "AWS::KinesisAnalyticsV2::Application",
        {
            "ApplicationName": "unilake-prod",
            "RuntimeEnvironment": "FLINK-1_20",
            "ApplicationConfiguration": Match.object_like(
                {
                    "ApplicationCodeConfiguration": {
                        "CodeContentType": "ZIPFILE",
                        "CodeContent": {
                            "S3ContentLocation": {
                                "BucketARN": Match.any_value(),
                                "FileKey": Match.string_like_regexp(r"^[0-9a-f]{64}\.zip$"),
                            }
                        },
                    },
                }
            ),
        },
    )
    groups = application(synthesis, "prod")["ApplicationConfiguration"]["EnvironmentProperties"]["PropertyGroups"]
    by_id = {group["PropertyGroupId"]: group["PropertyMap"] for group in groups}
    assert by_id[job.RUN_OPTIONS_GROUP_ID] == {"python": "main.py", "jarfile": f"lib/{job.DEPENDENCY_JAR_NAME}"}
    settings = job.parse_settings(groups)  # the job accepts exactly what we deploy
    assert settings.profile == "msf"
    assert settings.mode == "streaming"
    assert settings.warehouse == "s3://unilake-prod-lake-333333333333-us-east-1/warehouse"
    assert settings.database == "unilake_prod"
    assert settings.source_table == "transactions"


@pytest.mark.parametrize(("env", "interval_ms"), [("prod", 10_000), ("dev", 30_000)])
def test_monitor_interval_comes_from_the_table_registry_with_overrides(
    synthesis: Synthesis, env: str, interval_ms: int
) -> None:
    groups = application(synthesis, env)["ApplicationConfiguration"]["EnvironmentProperties"]["PropertyGroups"]
    assert job.parse_settings(groups).source_monitor_interval_ms == interval_ms


def test_checkpoints_snapshots_parallelism_monitoring_from_config(synthesis: Synthesis) -> None:
    synthesis.template("prod", "streaming").has_resource_properties(
        "AWS::KinesisAnalyticsV2::Application",
        {
            "ApplicationConfiguration": Match.object_like(
                {
                    "FlinkApplicationConfiguration": {
                        "CheckpointConfiguration": {
                            "ConfigurationType": "CUSTOM",
                            "CheckpointingEnabled": True,
                            "CheckpointInterval": 20_000,
                            "MinPauseBetweenCheckpoints": 5_000,
                        },
                        "MonitoringConfiguration": {
                            "ConfigurationType": "CUSTOM",
                            "MetricsLevel": "APPLICATION",
                            "LogLevel": "INFO",
                        },
                        "ParallelismConfiguration": {
                            "ConfigurationType": "CUSTOM",
                            "Parallelism": 4,
                            "ParallelismPerKPU": 1,
                            "AutoScalingEnabled": True,
                        },
                    },
                    "ApplicationSnapshotConfiguration": {"SnapshotsEnabled": True},
                    "ApplicationEncryptionConfiguration": {
                        "KeyType": "CUSTOMER_MANAGED_KEY",
                        "KeyId": Match.any_value(),
                    },
                }
            )
        },
    )


def test_runs_in_the_isolated_subnets_with_https_only_egress(synthesis: Synthesis) -> None:
    props = application(synthesis, "prod")["ApplicationConfiguration"]["VpcConfigurations"]
    assert len(props) == 1
    assert len(props[0]["SubnetIds"]) == 3  # prod: max_azs 3, isolated subnets only
    template = synthesis.template("prod", "streaming")
    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {"SecurityGroupIngress": Match.absent(), "SecurityGroupEgress": Match.absent()},  # no allow-all egress
    )
    template.resource_count_is("AWS::EC2::SecurityGroupIngress", 0)
    egress = template.find_resources("AWS::EC2::SecurityGroupEgress")
    assert len(egress) == 2
    for rule in egress.values():
        assert rule["Properties"]["IpProtocol"] == "tcp"
        assert rule["Properties"]["FromPort"] == rule["Properties"]["ToPort"] == 443
    destinations = sorted(
        "prefix-list" if "DestinationPrefixListId" in r["Properties"] else "endpoint-sg" for r in egress.values()
    )
    assert destinations == ["endpoint-sg", "prefix-list"]


def test_logs_to_a_kms_encrypted_log_group_with_configured_retention(synthesis: Synthesis) -> None:
    template = synthesis.template("prod", "streaming")
    template.has_resource_properties(
        "AWS::Logs::LogGroup",
        {
            "LogGroupName": "/aws/kinesis-analytics/unilake-prod",
            "RetentionInDays": 365,
            "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("JobLogKey"), "Arn"]},
        },
    )
    template.has_resource_properties(
        "AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption",
        {"ApplicationName": "unilake-prod", "CloudWatchLoggingOption": {"LogStreamARN": Match.any_value()}},
    )


def test_lake_key_lets_managed_flink_encrypt_the_environments_applications_only(synthesis: Synthesis) -> None:
    """AWS's documented key policy statements for Managed Flink (developer guide "Managing CMK using APIs"),
    each with its own conditions, naming the streaming and the backfill application (a condition key with
    several values matches any); the access matrix simulates them (tests/access_matrix)."""
    applications = [
        "arn:aws:kinesisanalytics:us-east-1:333333333333:application/unilake-prod",
        "arn:aws:kinesisanalytics:us-east-1:333333333333:application/unilake-prod-backfill",
    ]
    source = {"aws:SourceArn": applications, "aws:SourceAccount": "333333333333"}
    context = {"kms:EncryptionContext:aws:kinesisanalytics:arn": applications}
    service, infrastructure = "kinesisanalytics.amazonaws.com", "infrastructure.kinesisanalytics.amazonaws.com"
    expected = {
        "AllowMSFServiceToDescribeKey": (
            {"Service": [infrastructure, service]},
            "kms:DescribeKey",
            {"StringEquals": source},
        ),
        "AllowMSFServiceToGenerateDataKeyForDurableState": (
            {"Service": service},
            "kms:GenerateDataKey",
            {"StringEquals": {**source, **context}},
        ),
        "AllowMSFServiceToDecryptForDurableState": ({"Service": service}, "kms:Decrypt", {"StringEquals": context}),
        "AllowMSFServiceToUseKeyForRunningState": (
            {"Service": infrastructure},
            ["kms:Decrypt", "kms:GenerateDataKeyWithoutPlaintext"],
            {"StringEquals": context},
        ),
        "AllowMSFServiceToCreateGrantForRunningState": (
            {"Service": infrastructure},
            "kms:CreateGrant",
            {
                "StringEquals": {**context, "kms:GrantConstraintType": "EncryptionContextSubset"},
                "ForAllValues:StringEquals": {"kms:GrantOperations": "Decrypt"},
            },
        ),
    }
    (key,) = synthesis.template("prod", "lake").find_resources("AWS::KMS::Key").values()
    statements = {s.get("Sid"): s for s in key["Properties"]["KeyPolicy"]["Statement"]}
    for sid, (principal, action, condition) in expected.items():
        assert statements[sid]["Principal"] == principal, sid
        assert statements[sid]["Action"] == action, sid
        assert statements[sid]["Condition"] == condition, sid
        assert statements[sid]["Resource"] == "*", sid
    assert "AllowManagedFlinkApplicationEncryption" not in statements


def test_deploy_is_refused_while_the_zip_lacks_the_dependency_jar(synthesis: Synthesis) -> None:
    template = synthesis.template_json("prod", "streaming")
    jar_present = (FLINK_APP_DIR / "lib" / job.DEPENDENCY_JAR_NAME).is_file()
    assert (JAR_GUARD_PARAMETER in template.get("Parameters", {})) is not jar_present
    assert ("RefuseArtifactWithoutDependencyJar" in template.get("Rules", {})) is not jar_present


def test_the_jar_guard_holds_on_every_deploy_not_only_the_first() -> None:
    """The CDK CLI deploys an existing stack with UsePreviousValue for every parameter of the deployed stack
    it is not given: the guard's parameter must never be one a deployable (jar-present) template has, or an
    old value would let a zip without the jar through (issue 15 (h))."""
    import aws_cdk as cdk

    templates = {}
    for present in (True, False):
        stack = cdk.Stack(cdk.App(), "Guard")
        refuse_deploy_without_jar(stack, jar_present=present)
        templates[present] = assertions.Template.from_stack(stack).to_json()
    with_jar, without_jar = templates[True], templates[False]
    guard_parameters = set(without_jar["Parameters"]) - {"BootstrapVersion"}
    assert guard_parameters == {JAR_GUARD_PARAMETER}
    assert not guard_parameters & set(with_jar.get("Parameters", {}))
    assert "Rules" not in with_jar or "RefuseArtifactWithoutDependencyJar" not in with_jar["Rules"]
    (assertion,) = without_jar["Rules"]["RefuseArtifactWithoutDependencyJar"]["Assertions"]
    # The default, the only allowed value, fails the assertion: the rule refuses every deploy of that template.
    assert without_jar["Parameters"][JAR_GUARD_PARAMETER]["AllowedValues"] == ["true"]
    assert assertion["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": JAR_GUARD_PARAMETER}, "true"]}]}
    assert f"no lib/{job.DEPENDENCY_JAR_NAME}" in assertion["AssertDescription"]


def test_the_streaming_stack_deploys_after_the_tables_it_reads_and_writes(synthesis: Synthesis) -> None:
    for env, stage in synthesis.stages.items():
        assert stage.catalog_shards, env
        for shard in stage.catalog_shards.values():
            assert shard in stage.streaming.dependencies, (env, shard.stack_name)


def test_no_arn_in_the_infrastructure_code_hard_codes_the_aws_partition() -> None:
    import re

    root = FLINK_APP_DIR.parent
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for folder in ("stacks", "cdk_constructs")
        for path in sorted((root / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"""f?["']arn:aws:""", line)
    ]
    assert offenders == []


def test_the_code_asset_holds_only_what_managed_flink_runs(synthesis: Synthesis) -> None:
    stack = synthesis.stack("prod", "streaming")
    asset_dir = synthesis.outdir / f"asset.{stack.code.asset.asset_hash}"
    files = {str(p.relative_to(asset_dir)) for p in asset_dir.rglob("*") if p.is_file()}
    assert "main.py" in files
    assert any(f.startswith("unilake_job/") for f in files)
    assert not any("__pycache__" in f or f.endswith(".pyc") for f in files)
    assert not any(f.startswith(("tests/", "demo", "pom.xml", "package.py")) for f in files)
    assert "__init__.py" not in files


#: Classes the job needs from the dependency jar: the Glue catalog, S3 file IO, the Iceberg Flink table
#: factory (connector 'iceberg' and the catalog), Flink's HadoopUtils replaced by ours and relocated, and the
#: two operators chained to the Iceberg reader (flink_app/unilake_job/iceberg_stream.py).
JOB_CLASSES = (
    "org/apache/iceberg/aws/glue/GlueCatalog.class",
    "org/apache/iceberg/aws/s3/S3FileIO.class",
    "org/apache/iceberg/flink/FlinkDynamicTableFactory.class",
    "org/apache/iceberg/flink/FlinkCatalogFactory.class",
    "shadow/org/apache/flink/runtime/util/HadoopUtils.class",
    "shaded/org/apache/hadoop/conf/Configuration.class",
    "org/apache/hadoop/mapreduce/lib/input/FileInputFormat.class",
    "unilake/flink/QuietWatermark.class",
    "unilake/flink/SkippedSnapshots.class",
)
#: Java 11, the JVM of Managed Flink's FLINK-1_20 runtime: class file major version 55.
JAVA_11_MAJOR = 55


def test_the_code_asset_carries_the_dependency_jar_the_job_needs(synthesis: Synthesis) -> None:
    """``make synth`` builds the jar first: the zip Managed Flink gets holds main.py, the job package and
    lib/unilake-flink-deps.jar, whose classes are the ones the job loads, all Java 11 bytecode."""
    stack = synthesis.stack("prod", "streaming")
    asset_dir = synthesis.outdir / f"asset.{stack.code.asset.asset_hash}"
    assert (asset_dir / "main.py").is_file()
    assert (asset_dir / "unilake_job" / "__init__.py").is_file()
    assert sorted(p.name for p in (asset_dir / "lib").iterdir()) == [job.DEPENDENCY_JAR_NAME]
    with zipfile.ZipFile(asset_dir / "lib" / job.DEPENDENCY_JAR_NAME) as jar:
        names = set(jar.namelist())
        assert set(JOB_CLASSES) <= names
        # Our HadoopUtils replaces Flink's (relocated, so the job never loads the runtime's own).
        assert "org/apache/flink/runtime/util/HadoopUtils.class" not in names
        services = jar.read("META-INF/services/org.apache.flink.table.factories.Factory").decode()
        assert "org.apache.iceberg.flink.FlinkDynamicTableFactory" in services
        too_new = []
        for info in jar.infolist():
            if info.filename.endswith(".class"):
                with jar.open(info) as class_file:
                    header = class_file.read(8)
                assert header[:4] == b"\xca\xfe\xba\xbe", info.filename
                if int.from_bytes(header[6:8], "big") > JAVA_11_MAJOR:
                    too_new.append(info.filename)
        assert too_new == []


def test_service_role_trusts_managed_flink_for_this_application_only(synthesis: Synthesis) -> None:
    synthesis.template("prod", "streaming").has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": {"Service": "kinesisanalytics.amazonaws.com"},
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": "333333333333"},
                            "ArnEquals": {"aws:SourceArn": Match.any_value()},
                        },
                    }
                ]
            }
        },
    )


def _statements(synthesis: Synthesis) -> dict[str, dict]:  # type: ignore[type-arg]
    template = synthesis.template_json("prod", "streaming")
    (policy,) = [
        r
        for logical_id, r in template["Resources"].items()
        if r["Type"] == "AWS::IAM::ManagedPolicy" and logical_id.startswith("JobServicePolicy")
    ]
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def test_glue_update_only_on_sink_tables_and_no_create(synthesis: Synthesis) -> None:
    statements = _statements(synthesis)
    update = statements["CommitToSinkTables"]
    assert update["Action"] == "glue:UpdateTable"
    tables = [r for r in update["Resource"] if "table/" in str(r)]
    assert len(tables) == 3
    joined = str(update["Resource"])
    assert "transactions" not in joined
    for sink in ("sales_per_minute", "fraud_alerts", "quarantine"):
        assert sink in joined
    all_actions = {
        a for s in statements.values() for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert not any(a.startswith("glue:Create") or a.startswith("glue:Delete") for a in all_actions)


def test_s3_reads_on_source_writes_on_sinks_list_by_prefix_kms_via_s3(synthesis: Synthesis) -> None:
    statements = _statements(synthesis)
    base = "arn:aws:s3:::unilake-prod-lake-333333333333-us-east-1/warehouse/unilake_prod.db"
    assert statements["ReadSourceTableFiles"]["Action"] == "s3:GetObject"
    assert statements["ReadSourceTableFiles"]["Resource"] == f"{base}/transactions/*"
    writes = statements["WriteSinkTableFiles"]
    assert sorted(writes["Resource"]) == sorted(
        f"{base}/{t}/*" for t in ("sales_per_minute", "fraud_alerts", "quarantine")
    )
    listing = statements["ListTableLocations"]
    assert listing["Resource"] == "arn:aws:s3:::unilake-prod-lake-333333333333-us-east-1"
    assert "warehouse/unilake_prod.db/transactions/*" in listing["Condition"]["StringLike"]["s3:prefix"]
    assert statements["UseTheLakeKeyThroughS3Only"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    }
    assert statements["PublishMetricsToTheFlinkNamespaceOnly"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "AWS/KinesisAnalytics"}
    }


def _resources(template: dict, kind: str) -> dict[str, dict]:  # type: ignore[type-arg]
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_application_is_started_restoring_its_latest_snapshot_after_every_deploy(
    synthesis: Synthesis, env: str
) -> None:
    template = synthesis.template_json(env, "streaming")
    (app_id,) = _resources(template, "AWS::KinesisAnalyticsV2::Application")
    (logging_id,) = _resources(template, "AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption")
    (starter,) = _resources(template, "Custom::FlinkApplicationStarter").values()
    properties = starter["Properties"]
    assert properties["ApplicationName"] == {"Ref": app_id}
    assert properties["AllowNonRestoredState"] is False
    assert properties["StopOnDelete"] is True
    assert len(properties["UpdateToken"]) == 64
    # Started only once its logging is attached, so a failed start leaves its reason in the log stream,
    # and once the handlers' managed policy is attached to their role.
    (handler_policy_id,) = [k for k in _resources(template, "AWS::IAM::ManagedPolicy") if "StarterHandlerPolicy" in k]
    assert sorted(starter["DependsOn"]) == sorted([logging_id, handler_policy_id])


def test_the_starter_may_only_operate_this_one_application(synthesis: Synthesis) -> None:
    template = synthesis.template_json("prod", "streaming")
    (handler_policy,) = [
        r for k, r in _resources(template, "AWS::IAM::ManagedPolicy").items() if k.startswith("JobStarterHandlerPolicy")
    ]
    statements = handler_policy["Properties"]["PolicyDocument"]["Statement"]
    flink = [s for s in statements if str(s["Action"][0]).startswith("kinesisanalytics:")]
    assert flink == [{"Action": sorted(HANDLER_ACTIONS), "Effect": "Allow", "Resource": PROD_APP}]


def test_the_update_token_changes_with_the_code_and_the_configuration(synthesis: Synthesis) -> None:
    tokens = {
        env: next(
            iter(_resources(synthesis.template_json(env, "streaming"), "Custom::FlinkApplicationStarter").values())
        )["Properties"]["UpdateToken"]
        for env in ("dev", "staging", "prod")
    }
    assert len(set(tokens.values())) == 3, "each environment's configuration gives its own token"


def test_the_starter_logs_are_encrypted_with_a_key_only_this_stack_s_log_groups_may_use(
    synthesis: Synthesis,
) -> None:
    template = synthesis.template_json("prod", "streaming")
    starter_groups = {
        k: r for k, r in _resources(template, "AWS::Logs::LogGroup").items() if k.startswith("JobStarter")
    }
    assert len(starter_groups) == 3  # onEvent, isComplete, the Provider framework
    (key_id,) = [k for k in _resources(template, "AWS::KMS::Key") if k.startswith("StarterLogKey")]
    for group in starter_groups.values():
        assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
        assert group["Properties"]["RetentionInDays"] > 0
    key = _resources(template, "AWS::KMS::Key")[key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    (logs_statement,) = [s for s in key["KeyPolicy"]["Statement"] if s.get("Sid") == LOGS_STATEMENT_SID]
    assert logs_statement["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert logs_statement["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:333333333333:log-group:prod-streaming-*"
        }
    }
