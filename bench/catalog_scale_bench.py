"""Catalog scale benchmark: synthesize one environment with 10, 100 and 1,000 generated tables.

For each size it prints the synth time (the whole app for that environment, with every cdk-nag
pack, as ``app.py`` runs it), the number of stacks and of catalog shard stacks, and the largest
stack's resource count and template size (of any stack, and of the largest catalog shard),
against the limits we keep (450 resources, 800 KB; CloudFormation's are 500 and 1 MB). Figures
only: no assertion on time.

    .venv/bin/python bench/catalog_scale_bench.py [--sizes 10,100,1000] [--environment dev] [--no-checks]

The registry is the environment's own tables (the job's source and sinks) plus generated ones, in memory
(schema like the retail example: 12 columns with doc strings, ``day(event_time)`` + ``identity(region)``
partitions, table properties; every tenth table a streaming source); nothing under ``config/`` is touched.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from unilake_config import Environment, TableSpec, load_environments  # noqa: E402

MAX_RESOURCES = 450
MAX_TEMPLATE_BYTES = 800 * 1024

_COLUMNS = [
    ("record_id", "string", True, "Unique id of the record; replays repeat it."),
    ("tenant_id", "string", True, "Tenant that owns the record."),
    ("region", "string", False, "Sales region the record belongs to."),
    ("store_id", "string", False, "Store that produced the record."),
    ("sku", "string", False, "Stock-keeping unit concerned."),
    ("card_id", "string", False, "Tokenised payment card."),
    ("quantity", "int", False, "Units in the record."),
    ("unit_price", "decimal(10,2)", False, "Price of one unit."),
    ("amount", "decimal(18,2)", False, "Quantity times unit price."),
    ("is_refund", "boolean", False, "Whether the record reverses an earlier one."),
    ("event_time", "timestamp", False, "When the event happened (UTC)."),
    ("ingest_time", "timestamp", True, "When the lake received the record (UTC)."),
]


def generated_table(index: int) -> TableSpec:
    source = index % 10 == 0
    data: dict[str, object] = {
        "name": f"bench_table_{index:05d}",
        "doc": f"Generated table {index} for the catalog scale benchmark.",
        "role": "source" if source else "sink",
        "columns": [
            {"name": name, "type": type_, "required": required, "doc": doc} for name, type_, required, doc in _COLUMNS
        ],
        "identifier_fields": ["record_id"],
        "partition_spec": ["day(event_time)", "identity(region)"],
        "properties": {
            "write.format.default": "parquet",
            "write.parquet.compression-codec": "zstd",
            "write.metadata.delete-after-commit.enabled": "true",
            "write.metadata.previous-versions-max": "100",
        },
        "maintenance": {"snapshot_retention": {"retention_days": 7, "snapshots_to_retain": 10}},
    }
    if source:
        data["streaming"] = {"monitor_interval": "30s", "max_reader_downtime": "3d"}
    return TableSpec.model_validate(data)


def run(environment: Environment, size: int, *, checks: bool) -> dict[str, object]:
    import aws_cdk as cdk

    from app import build_app, cdk_json_context
    from nag_rules.acknowledgments import check_acknowledgments
    from stacks.stage import UnilakeStage

    # The environment's own tables (the job's source and sinks must exist), then generated ones up to ``size``.
    generated = tuple(generated_table(i) for i in range(max(size - len(environment.tables), 0)))
    env = replace(environment, tables=environment.tables + generated)
    with tempfile.TemporaryDirectory(prefix="catalog-bench-") as outdir:
        started = time.perf_counter()
        if checks:
            app = build_app(environments=[env], context=cdk_json_context(ROOT), outdir=outdir)
        else:
            app = cdk.App(context=cdk_json_context(ROOT), outdir=outdir)
            UnilakeStage(app, environment=env)
        app.synth()
        if checks:
            check_acknowledgments(Path(outdir))  # as app.py does after every synth
        seconds = time.perf_counter() - started
        (stage,) = [child for child in app.node.children if isinstance(child, UnilakeStage)]
        stacks = [child for child in stage.node.children if isinstance(child, cdk.Stack)]
        sizes, resources = {}, {}
        for stack in stacks:
            path = Path(outdir) / f"assembly-{env.name}" / stack.template_file
            sizes[stack.stack_name] = path.stat().st_size
            resources[stack.stack_name] = len(json.loads(path.read_text()).get("Resources", {}))
    most_resources = max(resources, key=lambda name: resources[name])
    biggest = max(sizes, key=lambda name: sizes[name])
    shard_names = [stack.stack_name for stack in stage.catalog_shards.values()]
    return {
        "shard_max_resources": max(resources[name] for name in shard_names),
        "shard_max_bytes": max(sizes[name] for name in shard_names),
        "tables": size,
        "seconds": seconds,
        "stacks": len(stacks),
        "catalog_shards": len(stage.catalog_shards),
        "max_resources": resources[most_resources],
        "max_resources_stack": most_resources,
        "max_bytes": sizes[biggest],
        "max_bytes_stack": biggest,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000", help="comma-separated table counts")
    parser.add_argument("--environment", default="dev", help="environment whose config to use")
    parser.add_argument("--no-checks", action="store_true", help="skip the cdk-nag packs (synth only)")
    args = parser.parse_args()
    (environment,) = load_environments(ROOT / "config", only=[args.environment])
    print(
        f"environment {environment.name}: shard_count={environment.config.catalog.shard_count}, "
        f"cdk-nag packs {'off' if args.no_checks else 'on'}; limits kept: {MAX_RESOURCES} resources, "
        f"{MAX_TEMPLATE_BYTES // 1024} KB per stack"
    )
    header = (
        f"{'tables':>7} {'synth s':>8} {'stacks':>7} {'shards':>7} {'max res':>8} {'max KB':>8} "
        f"{'shard res':>10} {'shard KB':>9}  largest stacks"
    )
    print(header)
    print("-" * len(header))
    within = True
    for size in (int(s) for s in args.sizes.split(",")):
        r = run(environment, size, checks=not args.no_checks)
        max_resources, max_bytes = int(str(r["max_resources"])), int(str(r["max_bytes"]))
        within = within and max_resources <= MAX_RESOURCES and max_bytes <= MAX_TEMPLATE_BYTES
        print(
            f"{size:>7} {float(str(r['seconds'])):>8.1f} {r['stacks']!s:>7} {r['catalog_shards']!s:>7} "
            f"{max_resources:>8} {max_bytes / 1024:>8.1f} {r['shard_max_resources']!s:>10} "
            f"{int(str(r['shard_max_bytes'])) / 1024:>9.1f}  "
            f"resources: {r['max_resources_stack']}; size: {r['max_bytes_stack']}"
        )
    print(f"every stack within {MAX_RESOURCES} resources and {MAX_TEMPLATE_BYTES // 1024} KB: {within}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
