"""grant_table_access: what a role needs to read and write named Iceberg tables of the lake, and nothing else.

Reading a table is Glue ``GetDatabase``/``GetTable`` on it (and its database and catalog) and ``s3:GetObject``
on the files under its location; writing one adds ``glue:UpdateTable`` (an Iceberg commit swaps the metadata
pointer) and ``s3:PutObject``/``DeleteObject``/``AbortMultipartUpload`` there. Listing is limited to those
tables' prefixes, and the lake key is usable only through S3 (``kms:ViaService``). No ``glue:Create*`` or
``Delete*``: the catalog stacks own the tables. The wildcard on each table's files is acknowledged here, where
it is made (the file names are generated at run time).
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from nag_rules import reasons
from nag_rules.acknowledgments import acknowledge_wildcard_resources

from .glue_database import catalog_arn, database_arn, table_arn

READ_OBJECT_ACTIONS = ("s3:GetObject",)
WRITE_OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")


def grant_table_access(
    policy: iam.ManagedPolicy,
    *,
    bucket_name: str,
    database_name: str,
    key: kms.IKey,
    read: Mapping[str, str],
    write: Mapping[str, str],
) -> None:
    """Add to ``policy`` read access to the ``read`` tables and read-write access to the ``write`` tables of
    ``database_name``; each maps a table name to the key prefix of its files in ``bucket_name`` (the lake
    bucket, whose fixed name keeps the ARNs literal: no cross-stack reference). ``key`` is the lake key."""
    if not read and not write:
        raise ValueError("grant_table_access: name at least one table to read or write")
    stack = Stack.of(policy)
    tables = {**read, **write}
    catalog, database = catalog_arn(stack), database_arn(stack, database_name)
    policy.add_statements(
        iam.PolicyStatement(
            sid="ReadCatalog",
            actions=["glue:GetDatabase", "glue:GetTable"],
            resources=[catalog, database, *(table_arn(stack, database_name, name) for name in tables)],
        )
    )
    if write:
        policy.add_statements(
            iam.PolicyStatement(
                sid="CommitToSinkTables",
                actions=["glue:UpdateTable"],
                resources=[catalog, database, *(table_arn(stack, database_name, name) for name in write)],
            )
        )
    bucket_arn = f"arn:{stack.partition}:s3:::{bucket_name}"

    def files(prefixes: Mapping[str, str]) -> list[str]:
        return [f"{bucket_arn}/{prefix}/*" for prefix in prefixes.values()]

    read_only = {name: prefix for name, prefix in read.items() if name not in write}
    if read_only:
        policy.add_statements(
            iam.PolicyStatement(
                sid="ReadSourceTableFiles", actions=list(READ_OBJECT_ACTIONS), resources=files(read_only)
            )
        )
    if write:
        policy.add_statements(
            iam.PolicyStatement(sid="WriteSinkTableFiles", actions=list(WRITE_OBJECT_ACTIONS), resources=files(write))
        )
    policy.add_statements(
        iam.PolicyStatement(
            sid="ListTableLocations",
            actions=["s3:ListBucket"],
            resources=[bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{prefix}/*" for prefix in tables.values()]}},
        )
    )
    acknowledge_wildcard_resources(policy, files(tables), reason=reasons.TABLE_FILES)
    policy.add_statements(
        iam.PolicyStatement(
            sid="UseTheLakeKeyThroughS3Only",
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=[key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
        )
    )
