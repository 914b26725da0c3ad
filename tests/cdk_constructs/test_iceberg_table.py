"""IcebergTable: one AWS::Glue::Table in the IcebergTableInput shape, field ids as Iceberg assigns them."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk

from cdk_constructs.iceberg_table import IcebergTable
from tests.cdk_constructs.construct_support import new_stack, resources
from unilake_config import TableSpec
from unilake_config.iceberg_definition import FIRST_PARTITION_FIELD_ID, column_ids

TABLE = TableSpec.model_validate(
    {
        "name": "orders",
        "doc": "Orders.",
        "role": "sink",
        "columns": [
            {"name": "order_id", "type": "string", "required": True, "doc": "Id."},
            {"name": "amount", "type": "decimal(18,2)", "doc": "Amount."},
            {"name": "placed_at", "type": "timestamp", "doc": "When."},
        ],
        "identifier_fields": ["order_id"],
        "partition_spec": ["day(placed_at)", "bucket(16, order_id)"],
        "properties": {"write.format.default": "parquet"},
    }
)


def table_resource(removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN) -> dict[str, Any]:
    stack = new_stack()
    IcebergTable(stack, "Orders", table=TABLE, database_name="db", location="s3://lake/w/db.db/orders",
                 removal_policy=removal_policy)  # fmt: skip
    (resource,) = resources(stack, "AWS::Glue::Table").values()
    return resource


def test_an_iceberg_table_without_table_input() -> None:
    resource = table_resource()
    properties = resource["Properties"]
    assert "TableInput" not in properties
    assert (properties["Name"], properties["DatabaseName"], properties["CatalogId"]) == ("orders", "db", "111111111111")
    iceberg = properties["OpenTableFormatInput"]["IcebergInput"]
    assert (iceberg["MetadataOperation"], iceberg["Version"]) == ("CREATE", "2")
    table_input = iceberg["IcebergTableInput"]
    assert table_input["Location"] == "s3://lake/w/db.db/orders"
    assert table_input["Properties"] == {"write.format.default": "parquet"}
    assert resource["DeletionPolicy"] == "Retain"


def test_columns_are_numbered_in_order_and_partitions_from_1000() -> None:
    table_input = table_resource()["Properties"]["OpenTableFormatInput"]["IcebergInput"]["IcebergTableInput"]
    schema = table_input["Schema"]
    assert [(f["Id"], f["Name"], f["Type"], f["Required"]) for f in schema["Fields"]] == [
        (1, "order_id", "string", True),
        (2, "amount", "decimal(18,2)", False),
        (3, "placed_at", "timestamp", False),
    ]
    assert schema["IdentifierFieldIds"] == [1]
    assert column_ids(TABLE) == {"order_id": 1, "amount": 2, "placed_at": 3}
    assert [
        (f["FieldId"], f["SourceId"], f["Transform"], f["Name"]) for f in table_input["PartitionSpec"]["Fields"]
    ] == [
        (FIRST_PARTITION_FIELD_ID, 3, "day", "placed_at_day"),
        (FIRST_PARTITION_FIELD_ID + 1, 1, "bucket[16]", "order_id_bucket"),
    ]


def test_the_removal_policy_is_the_callers() -> None:
    assert table_resource(cdk.RemovalPolicy.DESTROY)["DeletionPolicy"] == "Delete"
