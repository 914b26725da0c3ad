"""GlueDatabase: the database from plain names, and ARNs other stacks build without a token."""

from __future__ import annotations

import aws_cdk as cdk

from cdk_constructs.glue_database import GlueDatabase
from tests.cdk_constructs.construct_support import new_stack, resources

GLUE = "arn:aws:glue:eu-west-1:111111111111"


def test_the_database_and_its_arns() -> None:
    stack = new_stack()
    database = GlueDatabase(
        stack,
        "Database",
        database_name="unilake_test",
        location_uri="s3://lake/warehouse/unilake_test.db",
        description="test",
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    (resource,) = resources(stack, "AWS::Glue::Database").values()
    assert resource["Properties"] == {
        "CatalogId": "111111111111",
        "DatabaseInput": {
            "Name": "unilake_test",
            "Description": "test",
            "LocationUri": "s3://lake/warehouse/unilake_test.db",
        },
    }
    assert resource["DeletionPolicy"] == "Delete"
    assert database.catalog_arn == f"{GLUE}:catalog"
    assert database.database_arn == f"{GLUE}:database/unilake_test"
    assert database.table_arn("t") == f"{GLUE}:table/unilake_test/t"
    assert database.all_tables_arn == f"{GLUE}:table/unilake_test/*"


def test_retained_by_default() -> None:
    stack = new_stack()
    GlueDatabase(stack, "Database", database_name="d", location_uri="s3://l/w/d.db", description="d")
    (resource,) = resources(stack, "AWS::Glue::Database").values()
    assert resource["DeletionPolicy"] == "RetainExceptOnCreate"  # kept on delete, not after a failed create
