"""``python -m ops``: the cost model and the operator commands for a deployed environment.

Every name (application, database, bucket, region) comes from ``config/``: the user types only
``--env``. Errors the user can act on print one line and exit non-zero, without a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TextIO

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from unilake_config import ConfigError, Environment, load_environments
from unilake_config.durations import parse_seconds

from . import backfill, data, diagram, flink, lake, start_after
from .aws import AwsFactory
from .cost import parse_tier_mix
from .cost_chart import write_chart
from .cost_report import DEFAULT_INTERVALS, DEFAULT_TABLE_COUNTS, CostOptions, render, tradeoff_rows
from .errors import OpsError
from .prices import load_prices

EXIT_ERROR = 1
EXIT_USAGE = 2

AwsFactoryMaker = Callable[[Environment, argparse.Namespace], AwsFactory]


def _durations(text: str) -> tuple[int, ...]:
    try:
        return tuple(_duration(part) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _duration(text: str) -> int:
    try:
        return parse_seconds(int(text) if text.strip().isdigit() else text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected whole numbers such as 1,1000") from None
    if not counts or any(count < 1 for count in counts):
        raise argparse.ArgumentTypeError(f"{text!r}: table counts must be at least 1")
    return counts


def _positive_decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be zero or more")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be zero or more")
    return value


def _tier_mix(text: str) -> dict[str, Decimal]:
    try:
        return parse_tier_mix(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _day(text: str) -> date:
    try:
        return backfill.parse_day(text, "day")
    except OpsError:
        raise argparse.ArgumentTypeError(f"expected a UTC day as YYYY-MM-DD (got {text!r})") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ops", description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--config-dir", type=Path, default=Path("config"), help="default: %(default)s")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def aws_command(name: str, help_text: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.add_argument("--env", required=True, help="environment name (config/environments/<env>.yaml)")
        command.add_argument("--profile", help="AWS profile (default: the standard credential chain)")
        # Tests and local emulators: every client and the catalog talk to this endpoint.
        command.add_argument("--endpoint-url", help=argparse.SUPPRESS)
        return command

    cost = sub.add_parser("cost", help="monthly cost estimate per environment and table, assumptions shown")
    cost.add_argument("--env", action="append", default=[], help="environment (repeatable; default: all)")
    cost.add_argument(
        "--intervals",
        type=_durations,
        default=DEFAULT_INTERVALS,
        help="monitor intervals to compare (3s,30s,5m)",
    )
    cost.add_argument("--table-counts", type=_counts, default=DEFAULT_TABLE_COUNTS, help="default: 1,1000")
    cost.add_argument("--gb-per-table", type=_positive_decimal, default=Decimal(100), help="default: 100")
    cost.add_argument(
        "--objects-per-table", type=_non_negative_int, default=10_000, help="objects >= 128 KB; default: 10000"
    )
    cost.add_argument(
        "--tier-mix",
        type=_tier_mix,
        default=None,
        help="percent of bytes per Intelligent-Tiering tier; default: frequent=30,infrequent=30,archive_instant=40",
    )
    cost.add_argument("--readers", type=_positive_int, default=1, help="streaming readers per source table")
    cost.add_argument(
        "--source-commit-interval",
        type=_duration,
        default=None,
        help="how often the source tables' writer commits; default: the job's checkpoint interval",
    )
    cost.add_argument(
        "--data-files-per-commit", type=_positive_int, default=None, help="default: the job's parallelism"
    )
    cost.add_argument(
        "--chart",
        type=Path,
        metavar="FILE.svg",
        help="also draw the monitor-interval trade-off (cost by interval and table count) as SVG; with several "
        "environments FILE-<env>.svg each",
    )

    picture = sub.add_parser("diagram", help="the architecture diagram (Mermaid) of a synthesized environment")
    picture.add_argument("--env", default="dev", help="default: %(default)s")
    picture.add_argument("--cdk-out", type=Path, default=Path("cdk.out"), help="default: %(default)s")
    picture.add_argument("--write", type=Path, metavar="README", help="replace the diagram section of this file")

    aws_command("status", "application state, last checkpoint, last snapshot")
    start = aws_command(
        "start",
        "start the application from its latest snapshot (--after-snapshot: without state, after a source snapshot)",
    )
    position = start.add_mutually_exclusive_group()
    position.add_argument("--allow-non-restored-state", action="store_true")
    position.add_argument(
        "--after-snapshot",
        type=int,
        metavar="ID",
        help="start WITHOUT state, reading the source's snapshots after this one (exclusive), e.g. the snapshot "
        "a backfill ran up to",
    )
    start.add_argument("--wait", action="store_true", help="wait until RUNNING")
    start.add_argument("--timeout", type=_duration, default=600, help="for --wait; default: 10m")
    stop = aws_command("stop", "stop the application (the service takes a snapshot if snapshots are on)")
    stop.add_argument("--force", action="store_true", help="force stop: NO snapshot is taken")
    stop.add_argument("--wait", action="store_true", help="wait until READY")
    stop.add_argument("--timeout", type=_duration, default=600, help="for --wait; default: 10m")
    aws_command("snapshots", "list the application's snapshots, newest first")
    tables = aws_command("tables", "current Iceberg snapshot per table; snapshots still to read per source table")
    tables.add_argument("--table", help="only this table")
    tables.add_argument("--since-snapshot", type=int, help="the reader's last consumed snapshot id")
    tables.add_argument("--minutes", type=_positive_int, default=lake.DEFAULT_RECENT_MINUTES)
    tables.add_argument("--limit", type=_positive_int, default=lake.DEFAULT_RECENT_LIMIT)
    load = aws_command(
        "load", "append JSON-lines files to a source table, one Iceberg commit per file (all checked first)"
    )
    load.add_argument("files", nargs="+", type=Path, metavar="FILE.jsonl", help="one JSON object per line")
    load.add_argument("--table", default=lake.SOURCE_TABLE, help="a source table; default: %(default)s")
    show = aws_command("show", "a table's counts and its newest rows")
    show.add_argument("--table", default=lake.SINK_TABLE, help="default: %(default)s")
    show.add_argument("--since", type=_duration, default=86_400, help="rows of this last period; default: 1d")
    show.add_argument("--limit", type=_positive_int, default=10, help="rows to print; default: 10")
    smoke = aws_command("smoke", "append synthetic transactions and wait for their aggregates")
    smoke.add_argument("--count", type=_positive_int, default=20, help="transactions to append; default: 20")
    smoke.add_argument("--timeout", type=_duration, default=300, help="default: 5m")
    smoke.add_argument(
        "--advance-watermark",
        action="store_true",
        help="append one marked row per poll so windows close in an environment with no other traffic",
    )
    smoke.add_argument("--poll", type=float, default=5.0, help=argparse.SUPPRESS)
    run_backfill = aws_command(
        "backfill",
        "recompute whole UTC event-time days FROM..TO on the backfill application and replace them in the sinks "
        "(running it twice = once)",
    )
    run_backfill.add_argument("--from", dest="first", type=_day, required=True, help="first UTC day, YYYY-MM-DD")
    run_backfill.add_argument(
        "--to", dest="last", type=_day, required=True, help="last UTC day (inclusive), before today"
    )
    run_backfill.add_argument(
        "--up-to-snapshot",
        type=int,
        help="read transactions up to and including this snapshot id (default: the current one, pinned at start)",
    )
    run_backfill.add_argument("--timeout", type=_duration, default=4 * 3600, help="default: 4h")
    run_backfill.add_argument("--poll", type=float, default=15.0, help=argparse.SUPPRESS)
    aws_command("backfill-stop", "stop the backfill application (a run given up on)")
    return parser


def _default_factory(env: Environment, args: argparse.Namespace) -> AwsFactory:
    return AwsFactory(region=env.config.region, endpoint_url=args.endpoint_url, profile=args.profile)


def _run_cost(args: argparse.Namespace, out: TextIO) -> int:
    if args.chart is not None and args.chart.suffix.lower() != ".svg":
        raise OpsError(f"--chart {args.chart}: the chart is SVG, name the file *.svg (PNG would need matplotlib)")
    environments = load_environments(args.config_dir, only=tuple(args.env))
    book, path = load_prices(args.config_dir)
    options = CostOptions(
        gb_per_table=args.gb_per_table,
        objects_per_table=args.objects_per_table,
        readers=args.readers,
        source_commit_interval=args.source_commit_interval,
        data_files_per_commit=args.data_files_per_commit,
        intervals=args.intervals,
        table_counts=args.table_counts,
        **({"tier_mix": args.tier_mix} if args.tier_mix else {}),
    )
    reports = [render(env, book.for_region(env.config.region, path), path, options) for env in environments]
    out.write("\n\n".join(reports) + "\n")
    if args.chart is not None:
        for env in environments:
            target = args.chart
            if len(environments) > 1:
                target = args.chart.with_name(f"{args.chart.stem}-{env.name}{args.chart.suffix}")
            prices = book.for_region(env.config.region, path)
            title = f"{env.name}: Glue cost of polling per month by monitor interval (writer commits every "
            title += f"{options.source_commit_interval or env.config.flink.checkpoint_interval} s)"
            write_chart(target, tradeoff_rows(env, prices, options), title=title)
            out.write(f"chart: {target}\n")
    accounts = [env.config.account for env in environments]
    shared = sorted({account for account in accounts if accounts.count(account) > 1})
    if shared:
        out.write(
            f"\nNOTE: environments share account(s) {', '.join(shared)}: Glue's free million requests is per "
            "account, so the per-environment Glue figures above are too low.\n"
        )
    return 0


def _run_aws(args: argparse.Namespace, env: Environment, aws: AwsFactory, out: TextIO, err: TextIO) -> int:
    name = env.config.flink.application_name
    region = env.config.region
    now = datetime.now(UTC)
    command = args.command
    if command == "status":
        return flink.status(
            aws.client("kinesisanalyticsv2"),
            aws.client("cloudwatch"),
            name=name,
            region=region,
            out=out,
            now=now,
            checkpoint_interval=env.config.flink.checkpoint_interval,
        )
    if command == "start":
        wait = flink.Waiting(timeout=args.timeout) if args.wait else None
        if args.after_snapshot is not None:
            return start_after.start_after(
                aws.client("kinesisanalyticsv2"),
                aws.catalog(env.config),
                env,
                after=args.after_snapshot,
                out=out,
                wait=wait,
            )
        allow = args.allow_non_restored_state or env.config.flink.allow_non_restored_state
        return flink.start(
            aws.client("kinesisanalyticsv2"),
            name=name,
            region=region,
            allow_non_restored_state=allow,
            out=out,
            wait=wait,
        )
    if command == "stop":
        wait = flink.Waiting(timeout=args.timeout) if args.wait else None
        return flink.stop(
            aws.client("kinesisanalyticsv2"),
            name=name,
            region=region,
            force=args.force,
            out=out,
            err=err,
            wait=wait,
        )
    if command == "snapshots":
        return flink.snapshots(aws.client("kinesisanalyticsv2"), name=name, region=region, out=out)
    if command == "tables":
        return lake.tables(
            aws.catalog(env.config),
            env,
            out=out,
            now=now,
            only=args.table,
            since_snapshot=args.since_snapshot,
            minutes=args.minutes,
            limit=args.limit,
        )
    if command == "load":
        return data.load(aws.catalog(env.config), env, table_name=args.table, files=args.files, out=out)
    if command == "show":
        return data.show(
            aws.catalog(env.config), env, table_name=args.table, out=out, now=now, since=args.since, limit=args.limit
        )
    if command == "smoke":
        return lake.smoke(
            aws.catalog(env.config),
            env,
            out=out,
            count=args.count,
            timeout=args.timeout,
            poll=args.poll,
            advance_watermark=args.advance_watermark,
        )
    if command == "backfill":
        backfill.check_days(args.first, args.last)  # before any client is built
        return backfill.backfill(
            aws.client("kinesisanalyticsv2"),
            aws.catalog(env.config),
            env,
            first=args.first,
            last=args.last,
            up_to_snapshot=args.up_to_snapshot,
            out=out,
            following=backfill.Following(timeout=args.timeout, poll=args.poll),
        )
    if command == "backfill-stop":
        return backfill.stop(aws.client("kinesisanalyticsv2"), env, out=out, err=err)
    raise AssertionError(f"unhandled command {command}")  # pragma: no cover - argparse restricts choices


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    aws_factory: AwsFactoryMaker = _default_factory,
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        if args.command == "cost":
            return _run_cost(args, out)
        if args.command == "diagram":
            block = diagram.readme_block(args.cdk_out, args.env)
            if args.write is None:
                out.write(block + "\n")
            else:
                changed = diagram.write_block(args.write, block)
                out.write(f"{args.write}: diagram {'updated' if changed else 'already current'}\n")
            return 0
        (env,) = load_environments(args.config_dir, only=(args.env,))
        return _run_aws(args, env, aws_factory(env, args), out, err)
    except ConfigError as error:
        err.write(f"error: {error}\n")
        return EXIT_USAGE
    except OpsError as error:
        err.write(f"error: {error}\n")
        return EXIT_ERROR
    except (NoCredentialsError, PartialCredentialsError):
        err.write(
            "error: no AWS credentials found: set AWS_PROFILE (or --profile), run `aws sso login`, or export "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY\n"
        )
        return EXIT_ERROR
    except NoRegionError:
        err.write("error: no AWS region configured (set AWS_REGION or the profile's region)\n")
        return EXIT_ERROR
    except ProfileNotFound as error:
        err.write(f"error: {error}\n")
        return EXIT_ERROR
    except EndpointConnectionError as error:
        err.write(f"error: cannot reach AWS: {error}\n")
        return EXIT_ERROR
    except ClientError as error:
        detail = error.response.get("Error", {})
        err.write(f"error: {error.operation_name}: {detail.get('Code', '?')}: {detail.get('Message', error)}\n")
        return EXIT_ERROR
    except BotoCoreError as error:
        err.write(f"error: {error}\n")
        return EXIT_ERROR
