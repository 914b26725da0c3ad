"""The catalog: Glue database, the Iceberg tables as CloudFormation receives them, their
optimizers and the optimizer role, and the shard assignment's stability and limits."""

from __future__ import annotations

import random
import string
from pathlib import Path
from typing import Any

import pytest

from stacks.catalog_stack import (
    MAX_RESOURCES,
    RESOURCES_PER_TABLE,
    ShardLimitError,
    assign_shards,
    check_shard_sizes,
    check_template_limits,
    shard_of,
    shard_stack_id,
)
from tests.conftest import Synthesis
from unilake_config import Environment, load_environments

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("dev", "staging", "prod")
EXAMPLE_TABLES = ("transactions", "sales_per_minute", "fraud_alerts", "quarantine")


@pytest.fixture(scope="module")
def environments() -> dict[str, Environment]:
    return {env.name: env for env in load_environments(ROOT / "config")}


def glue_table(synthesis: Synthesis, environment: Environment, name: str) -> dict[str, Any]:
    """The AWS::Glue::Table of ``name``, read from the shard stack its name hashes to."""
    shard = shard_of(name, environment.config.catalog.shard_count)
    template = synthesis.template_json(environment.name, shard_stack_id(shard))
    (resource,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::Glue::Table" and r["Properties"]["Name"] == name
    ]
    return resource


def optimizers(synthesis: Synthesis, environment: Environment, name: str) -> dict[str, dict[str, Any]]:
    shard = shard_of(name, environment.config.catalog.shard_count)
    template = synthesis.template_json(environment.name, shard_stack_id(shard))
    return {
        r["Properties"]["Type"]: r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Glue::TableOptimizer" and r["Properties"]["TableName"] == name
    }


# --- the database and the stacks ----------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_database_is_named_per_environment(synthesis: Synthesis, env: str) -> None:
    from aws_cdk.assertions import Match

    template = synthesis.template(env, "catalog")
    template.resource_count_is("AWS::Glue::Database", 1)
    template.has_resource_properties(
        "AWS::Glue::Database",
        {
            "DatabaseInput": Match.object_like(
                {"Name": f"unilake_{env}", "LocationUri": Match.string_like_regexp(r"/warehouse/unilake_\w+\.db$")}
            )
        },
    )
    template.resource_count_is("AWS::Glue::Table", 0)  # tables live in the shards


def test_stateful_catalog_resources_follow_the_environments_removal_policy(synthesis: Synthesis) -> None:
    for env, policy in (("dev", "Delete"), ("prod", "RetainExceptOnCreate"), ("staging", "RetainExceptOnCreate")):
        database = synthesis.template(env, "catalog").find_resources("AWS::Glue::Database")
        assert {r["DeletionPolicy"] for r in database.values()} == {policy}
    prod = load_environments(ROOT / "config", only=["prod"])[0]
    assert glue_table(synthesis, prod, "transactions")["DeletionPolicy"] == "RetainExceptOnCreate"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_only_non_empty_shards_get_a_stack(
    synthesis: Synthesis, environments: dict[str, Environment], env: str
) -> None:
    environment = environments[env]
    expected = assign_shards([t.name for t in environment.tables], environment.config.catalog.shard_count)
    stage = synthesis.stages[env]
    assert set(stage.catalog_shards) == set(expected)
    catalog_stacks = {s.node.id for e, s in synthesis.stacks() if e == env and s.node.id.startswith("catalog-")}
    assert catalog_stacks == {shard_stack_id(shard) for shard in expected}
    for shard, names in expected.items():
        stack = stage.catalog_shards[shard]
        assert set(stack.tables) == set(names)
        assert stack.stack_name == f"{env}-{shard_stack_id(shard)}"
        assert stage.catalog in stack.dependencies


# --- Iceberg tables as CloudFormation receives them ----------------------------------------------


def test_transactions_schema_and_partition_spec(synthesis: Synthesis, environments: dict[str, Environment]) -> None:
    table = glue_table(synthesis, environments["dev"], "transactions")["Properties"]
    assert table["CatalogId"] == "111111111111"
    assert table["DatabaseName"] == "unilake_dev"
    assert "TableInput" not in table  # the Iceberg shape carries its metadata in IcebergTableInput only
    iceberg = table["OpenTableFormatInput"]["IcebergInput"]
    assert iceberg["MetadataOperation"] == "CREATE"
    assert iceberg["Version"] == "2"
    spec = iceberg["IcebergTableInput"]
    assert spec["Location"] == "s3://unilake-dev-lake-111111111111-eu-west-1/warehouse/unilake_dev.db/transactions"
    assert spec["Schema"]["Type"] == "struct"
    assert [(f["Id"], f["Name"], f["Type"], f["Required"]) for f in spec["Schema"]["Fields"]] == [
        (1, "transaction_id", "string", True),
        (2, "store_id", "string", False),
        (3, "region", "string", False),
        (4, "sku", "string", False),
        (5, "card_id", "string", False),
        (6, "quantity", "int", False),
        (7, "unit_price", "decimal(10,2)", False),
        (8, "event_time", "timestamp", False),
    ]
    assert all(field["Doc"] for field in spec["Schema"]["Fields"])
    assert spec["Schema"]["IdentifierFieldIds"] == [1]
    assert spec["PartitionSpec"]["Fields"] == [
        {"FieldId": 1000, "Name": "event_time_day", "SourceId": 8, "Transform": "day"},
        {"FieldId": 1001, "Name": "region", "SourceId": 3, "Transform": "identity"},
    ]
    assert spec["Properties"]["write.format.default"] == "parquet"
    assert spec["Properties"]["write.parquet.compression-codec"] == "zstd"


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("name", EXAMPLE_TABLES)
def test_every_registry_table_becomes_its_iceberg_table(
    synthesis: Synthesis, environments: dict[str, Environment], env: str, name: str
) -> None:
    environment = environments[env]
    expected = environment.table(name)
    spec = glue_table(synthesis, environment, name)["Properties"]["OpenTableFormatInput"]["IcebergInput"]
    table_input = spec["IcebergTableInput"]
    assert table_input["Location"] == environment.config.table_location(name)
    fields = table_input["Schema"]["Fields"]
    assert [(f["Name"], f["Type"], f["Required"], f["Doc"]) for f in fields] == [
        (c.name, c.type, c.required, c.doc) for c in expected.columns
    ]
    assert [f["Id"] for f in fields] == list(range(1, len(expected.columns) + 1))
    ids = {f["Name"]: f["Id"] for f in fields}
    assert table_input["Schema"].get("IdentifierFieldIds", []) == [ids[n] for n in expected.identifier_fields]
    partition_fields = table_input.get("PartitionSpec", {"Fields": []})["Fields"]
    assert [(p["Name"], p["SourceId"], p["Transform"]) for p in partition_fields] == [
        (p.name, ids[p.source], p.transform) for p in expected.partition_spec
    ]
    assert [p["FieldId"] for p in partition_fields] == list(range(1000, 1000 + len(partition_fields)))
    assert table_input.get("Properties", {}) == expected.properties


def test_sink_tables_partition_specs(synthesis: Synthesis, environments: dict[str, Environment]) -> None:
    dev = environments["dev"]

    def spec(name: str) -> list[tuple[str, str]]:
        table = glue_table(synthesis, dev, name)["Properties"]["OpenTableFormatInput"]["IcebergInput"]
        return [(p["Name"], p["Transform"]) for p in table["IcebergTableInput"]["PartitionSpec"]["Fields"]]

    assert spec("sales_per_minute") == [("window_start_day", "day")]
    assert spec("fraud_alerts") == [("window_start_day", "day"), ("rule", "identity")]
    assert spec("quarantine") == [("ingest_time_day", "day"), ("reason", "identity")]


# --- optimizers ----------------------------------------------------------------------------------


def test_every_table_has_three_optimizers_run_by_the_one_role(
    synthesis: Synthesis, environments: dict[str, Environment]
) -> None:
    for env, environment in environments.items():
        role_arn = (
            f"arn:aws:iam::{environment.config.account}:role/unilake-{env}-table-optimizer-{environment.config.region}"
        )
        for name in EXAMPLE_TABLES:
            found = optimizers(synthesis, environment, name)
            assert set(found) == {"compaction", "retention", "orphan_file_deletion"}
            for optimizer in found.values():
                properties = optimizer["Properties"]
                assert properties["DatabaseName"] == f"unilake_{env}"
                assert properties["CatalogId"] == environment.config.account
                assert properties["TableOptimizerConfiguration"]["RoleArn"] == role_arn
                assert len(optimizer["DependsOn"]) == 1  # created after its table


def test_optimizer_settings_come_from_the_registry(synthesis: Synthesis, environments: dict[str, Environment]) -> None:
    def config(env: str, name: str, kind: str) -> dict[str, Any]:
        found = optimizers(synthesis, environments[env], name)
        result: dict[str, Any] = found[kind]["Properties"]["TableOptimizerConfiguration"]
        return result

    assert config("dev", "transactions", "compaction")["Enabled"] is True
    assert config("dev", "transactions", "retention")["RetentionConfiguration"]["IcebergConfiguration"] == {
        "SnapshotRetentionPeriodInDays": 7,
        "NumberOfSnapshotsToRetain": 10,
        "CleanExpiredFiles": True,
    }
    # prod overrides the source table's retention (its reader may be down 5 days)
    assert (
        config("prod", "transactions", "retention")["RetentionConfiguration"]["IcebergConfiguration"][
            "SnapshotRetentionPeriodInDays"
        ]
        == 14
    )
    assert config("dev", "transactions", "orphan_file_deletion")["OrphanFileDeletionConfiguration"] == {
        "IcebergConfiguration": {"OrphanFileRetentionPeriodInDays": 3}
    }
    # safe defaults where the registry says nothing (Glue's own: 5 days, 1 snapshot; orphans 3 days)
    assert config("dev", "sales_per_minute", "retention")["RetentionConfiguration"]["IcebergConfiguration"] == {
        "SnapshotRetentionPeriodInDays": 5,
        "NumberOfSnapshotsToRetain": 1,
        "CleanExpiredFiles": True,
    }
    assert (
        config("dev", "quarantine", "retention")["RetentionConfiguration"]["IcebergConfiguration"][
            "SnapshotRetentionPeriodInDays"
        ]
        == 30
    )


def test_retention_outlives_the_readers_downtime_in_every_environment(
    synthesis: Synthesis, environments: dict[str, Environment]
) -> None:
    for environment in environments.values():
        for table in environment.tables:
            if table.streaming is None:
                continue
            found = optimizers(synthesis, environment, table.name)["retention"]
            days = found["Properties"]["TableOptimizerConfiguration"]["RetentionConfiguration"]["IcebergConfiguration"][
                "SnapshotRetentionPeriodInDays"
            ]
            assert days * 86400 > table.streaming.max_reader_downtime


# --- the optimizer role --------------------------------------------------------------------------


def test_optimizer_role_is_trusted_by_glue_of_this_account_only(synthesis: Synthesis) -> None:
    from aws_cdk.assertions import Match

    template = synthesis.template("dev", "catalog")
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "RoleName": "unilake-dev-table-optimizer-eu-west-1",
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": {"Service": "glue.amazonaws.com"},
                        "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}},
                    }
                ],
                "Version": Match.any_value(),
            },
        },
    )
    template.resource_count_is("AWS::IAM::Policy", 0)  # no inline policies (HIPAA/NIST/PCI)


def test_optimizer_policy_is_scoped_to_this_database(synthesis: Synthesis) -> None:
    template = synthesis.template_json("dev", "catalog")
    (policy,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::ManagedPolicy"]
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    bucket = "arn:aws:s3:::unilake-dev-lake-111111111111-eu-west-1"
    assert statements["WarehouseObjects"]["Resource"] == f"{bucket}/warehouse/unilake_dev.db/*"
    assert sorted(statements["WarehouseObjects"]["Action"]) == ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    assert statements["ListWarehousePrefix"]["Resource"] == bucket
    assert statements["ListWarehousePrefix"]["Condition"] == {
        "StringLike": {"s3:prefix": ["warehouse/unilake_dev.db", "warehouse/unilake_dev.db/*"]}
    }
    kms = statements["LakeKeyThroughS3Only"]
    assert sorted(kms["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}
    assert "*" not in str(kms["Resource"])
    glue = statements["ReadAndCommitThisDatabasesTables"]
    assert sorted(glue["Action"]) == ["glue:GetDatabase", "glue:GetTable", "glue:UpdateTable"]
    assert sorted(glue["Resource"]) == [
        "arn:aws:glue:eu-west-1:111111111111:catalog",
        "arn:aws:glue:eu-west-1:111111111111:database/unilake_dev",
        "arn:aws:glue:eu-west-1:111111111111:table/unilake_dev/*",
    ]
    assert "glue:CreateTable" not in str(policy)
    assert sorted(statements["OptimizerLogs"]["Resource"]) == [
        f"arn:aws:logs:eu-west-1:111111111111:log-group:/aws-glue/iceberg-{kind}/logs:*"
        for kind in ("compaction", "orphan-file-deletion", "retention")
    ]


# --- sharding: pure, stable, deterministic, within limits ----------------------------------------


def random_names(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        rng.choice(string.ascii_lowercase) + "".join(rng.choices(string.ascii_lowercase + "_", k=12))
        for _ in range(count)
    ]


def test_shard_of_is_deterministic_and_independent_of_pythons_hash_seed() -> None:
    """Pinned values: another hash function, byte order or modulus would move deployed tables, and
    Python's own ``hash()`` of a string changes with every interpreter (PYTHONHASHSEED)."""
    assert {name: shard_of(name, 32) for name in EXAMPLE_TABLES} == EXPECTED_SHARDS
    assert [shard_of("transactions", count) for count in (1, 7, 32, 128)] == PINNED_TRANSACTIONS


PINNED_TRANSACTIONS = [0, 0, 2, 2]  # shard of "transactions" for 1, 7, 32 and 128 shards
EXPECTED_SHARDS = {"transactions": 2, "sales_per_minute": 31, "fraud_alerts": 24, "quarantine": 15}


def test_adding_tables_never_moves_existing_ones() -> None:
    existing = random_names(200, seed=1)
    before = assign_shards(existing, 32)
    after = assign_shards([*existing, *random_names(800, seed=2)], 32)
    where_before = {name: shard for shard, names in before.items() for name in names}
    where_after = {name: shard for shard, names in after.items() for name in names}
    assert all(where_after[name] == shard for name, shard in where_before.items())


def test_removing_or_reordering_tables_never_moves_the_others() -> None:
    names = random_names(300, seed=3)
    full = {n: s for s, ns in assign_shards(names, 32).items() for n in ns}
    shuffled = names[::-1][50:]
    partial = {n: s for s, ns in assign_shards(shuffled, 32).items() for n in ns}
    assert all(full[name] == shard for name, shard in partial.items())


def test_assignment_keeps_only_non_empty_shards() -> None:
    assignment = assign_shards(["transactions"], 32)
    assert assignment == {2: ("transactions",)}
    assert shard_stack_id(2) == "catalog-02"


def test_a_thousand_tables_spread_well_under_the_limits() -> None:
    assignment = assign_shards(random_names(1000, seed=4), 32)
    largest = max(len(names) for names in assignment.values())
    assert largest * RESOURCES_PER_TABLE + 1 < MAX_RESOURCES
    check_shard_sizes(assignment)


def test_an_overfull_shard_is_refused_with_a_clear_message() -> None:
    assignment = assign_shards(random_names(1000, seed=5), 2)
    with pytest.raises(ShardLimitError, match=r"prod/catalog-0\d: \d+ tables make \d+ resources, over the 450"):
        check_shard_sizes(assignment, environment="prod")


def test_a_template_over_the_limits_is_refused(tmp_path: Path) -> None:
    template = tmp_path / "t.template.json"
    template.write_text('{"Resources": {"A": {}, "B": {}, "C": {}}}')
    check_template_limits(template, name="dev/catalog-01", max_resources=3, max_bytes=1000)
    with pytest.raises(ShardLimitError, match=r"dev/catalog-01: the template has 3 resources"):
        check_template_limits(template, name="dev/catalog-01", max_resources=2, max_bytes=1000)
    with pytest.raises(ShardLimitError, match=r"and 42 bytes"):
        check_template_limits(template, name="dev/catalog-01", max_resources=3, max_bytes=40)


def test_synth_fails_when_a_written_shard_template_is_too_big(tmp_path: Path) -> None:
    """The dedicated small app of this test: a shard stack whose real template passes the limit."""
    import aws_cdk as cdk

    from stacks.catalog_stack import CatalogShardStack

    (dev,) = load_environments(ROOT / "config", only=["dev"])
    app = cdk.App(outdir=str(tmp_path / "out"))
    stage = cdk.Stage(app, "dev", env=cdk.Environment(account=dev.config.account, region=dev.config.region))
    table = dev.table("transactions")
    CatalogShardStack(
        stage,
        shard_stack_id(2),
        config=dev.config,
        shard=2,
        tables=[table],
        optimizer_role_name="r",
        max_bytes=2_000,
    )
    with pytest.raises(RuntimeError, match=r"dev/catalog-02: the template has 4 resources and [\d,]+ bytes"):
        app.synth()


def test_a_table_in_the_wrong_shard_is_refused(tmp_path: Path) -> None:
    import aws_cdk as cdk

    from stacks.catalog_stack import CatalogShardStack

    (dev,) = load_environments(ROOT / "config", only=["dev"])
    app = cdk.App(outdir=str(tmp_path / "out"))
    with pytest.raises(ValueError, match="does not belong to shard 3"):
        CatalogShardStack(
            app, "catalog-03", config=dev.config, shard=3, tables=[dev.table("transactions")], optimizer_role_name="r"
        )
