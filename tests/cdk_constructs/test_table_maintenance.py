"""TableOptimizerRole and TableMaintenance: one least-privilege role per database, three optimizers per table."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms

from cdk_constructs.table_maintenance import OPTIMIZER_LOG_GROUPS, TableMaintenance, TableOptimizerRole
from tests.cdk_constructs.construct_support import new_stack, resources
from unilake_config.tables import Maintenance

LAKE = "arn:aws:s3:::lake"


def optimizer_role() -> tuple[TableOptimizerRole, dict[str, dict[str, Any]]]:
    stack = new_stack()
    role = TableOptimizerRole(
        stack,
        "TableOptimizer",
        role_name="optimizer",
        database_name="db",
        bucket_name="lake",
        warehouse_prefix="warehouse/db.db",
        key=kms.Key(stack, "Key"),
    )
    (policy,) = resources(stack, "AWS::IAM::ManagedPolicy").values()
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    return role, statements


def test_the_role_reaches_this_database_s_prefix_and_tables_only() -> None:
    _, statements = optimizer_role()
    assert statements["WarehouseObjects"]["Resource"] == f"{LAKE}/warehouse/db.db/*"
    assert statements["ListWarehousePrefix"]["Condition"] == {
        "StringLike": {"s3:prefix": ["warehouse/db.db", "warehouse/db.db/*"]}
    }
    assert statements["ReadAndCommitThisDatabasesTables"]["Resource"][-1] == (
        "arn:aws:glue:eu-west-1:111111111111:table/db/*"
    )
    assert statements["LakeKeyThroughS3Only"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
    }
    assert len(statements["OptimizerLogs"]["Resource"]) == len(OPTIMIZER_LOG_GROUPS)


def test_the_role_acknowledges_its_own_wildcards() -> None:
    role, statements = optimizer_role()
    acknowledged = {
        rule
        for entry in role.policy.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule in entry.data
    }
    wildcards = {
        resource
        for statement in statements.values()
        for resource in ([statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"])
        if "*" in resource
    }
    assert acknowledged == {f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}]" for resource in wildcards}


def test_three_optimizers_enabled_as_the_registry_says() -> None:
    stack = new_stack()
    maintenance = Maintenance.model_validate(
        {"compaction": {"enabled": False}, "snapshot_retention": {"retention_days": 9}}
    )
    TableMaintenance(
        stack,
        "Maintenance",
        database_name="db",
        table_name="t",
        maintenance=maintenance,
        role_arn="arn:aws:iam::111111111111:role/optimizer",
    )
    optimizers = {
        r["Properties"]["Type"]: r["Properties"] for r in resources(stack, "AWS::Glue::TableOptimizer").values()
    }
    assert set(optimizers) == {"compaction", "retention", "orphan_file_deletion"}
    assert optimizers["compaction"]["TableOptimizerConfiguration"]["Enabled"] is False
    retention = optimizers["retention"]["TableOptimizerConfiguration"]
    assert retention["Enabled"] is True
    assert retention["RetentionConfiguration"]["IcebergConfiguration"]["SnapshotRetentionPeriodInDays"] == 9
    for properties in optimizers.values():
        assert (properties["DatabaseName"], properties["TableName"], properties["CatalogId"]) == (
            "db",
            "t",
            "111111111111",
        )
        assert properties["TableOptimizerConfiguration"]["RoleArn"] == "arn:aws:iam::111111111111:role/optimizer"
