"""GlueDatabase: the environment's Glue Data Catalog database, and ARN helpers for its tables.

The names are plain strings from the config (never tokens), so other stacks — the catalog
shards, the Flink stack — can build the same ARNs without a cross-stack reference.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_glue as glue
from constructs import Construct


class GlueDatabase(Construct):
    """One Glue database. ``database`` is the L1 resource; the ARN helpers need no token."""

    database: glue.CfnDatabase
    database_name: str
    location_uri: str

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        database_name: str,
        location_uri: str,
        description: str,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    ) -> None:
        super().__init__(scope, construct_id)
        self.database_name = database_name
        self.location_uri = location_uri
        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=Stack.of(self).account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=database_name, description=description, location_uri=location_uri
            ),
        )
        self.database.apply_removal_policy(removal_policy)

    @property
    def catalog_arn(self) -> str:
        return catalog_arn(Stack.of(self))

    @property
    def database_arn(self) -> str:
        return database_arn(Stack.of(self), self.database_name)

    def table_arn(self, table_name: str) -> str:
        return table_arn(Stack.of(self), self.database_name, table_name)

    @property
    def all_tables_arn(self) -> str:
        """Every table of this database (``table/<db>/*``): for roles that serve all of them."""
        return table_arn(Stack.of(self), self.database_name, "*")


def catalog_arn(stack: Stack) -> str:
    return stack.format_arn(service="glue", resource="catalog")


def database_arn(stack: Stack, database_name: str) -> str:
    return stack.format_arn(service="glue", resource="database", resource_name=database_name)


def table_arn(stack: Stack, database_name: str, table_name: str) -> str:
    return stack.format_arn(service="glue", resource="table", resource_name=f"{database_name}/{table_name}")
