"""Entry point of the unified job (Managed Flink runs ``python=main.py`` from the zip root).

Settings come from an application-properties file: ``/etc/flink/application_properties.json`` on Managed
Flink, otherwise ``--properties FILE`` (or the ``UNILAKE_PROPERTIES`` environment variable).
Command-line flags override single keys, which is how local runs are usually started::

    python flink_app/main.py --profile local --mode batch --input IN --output OUT
    python flink_app/main.py --profile local --mode streaming --input IN --output OUT --idle-timeout 10

Locally, a run refuses an output folder that already holds results (a second run would add a second set of
part files and double every table) unless ``--overwrite``, which replaces them: a batch run writes into a
staging folder beside ``OUT`` and swaps it in only when the job finished, so a failed run leaves ``OUT`` as
it was. ``--restore-from`` continues the run whose output is there.

Bad settings or arguments: one line on stderr naming the file (or the flag the value came from), key and reason,
exit status 2, no traceback. A local run ends with a summary of what it read and wrote.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the zip root on Managed Flink; flink_app/ in the repository
    sys.path.insert(0, str(HERE))

from unilake_job import properties as props  # noqa: E402
from unilake_job.sql import OUTPUT_TABLES, PROGRESS_TABLE  # noqa: E402

EXIT_BAD_SETTINGS = 2
EXIT_JOB_FAILED = 1


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="main.py", description="unilake: the unified streaming/batch job")
    parser.add_argument("--properties", help="application-properties JSON file (default: see module docstring)")
    parser.add_argument("--profile", choices=props.PROFILES)
    parser.add_argument("--mode", choices=props.MODES)
    parser.add_argument("--input", help="local profile: folder of *.jsonl files")
    parser.add_argument("--output", help="local profile: output folder (one sub-folder per table)")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="local: replace the results already in --output (without it, a non-empty --output is refused; "
        "a batch run swaps the new results in only once the job finished)",
    )
    parser.add_argument("--idle-timeout", type=float, default=10.0, help="streaming, local: stop after N s idle")
    parser.add_argument("--checkpoint-dir", help="local streaming: checkpoints (default: OUTPUT/_checkpoints)")
    parser.add_argument(
        "--restore-from",
        help="local streaming: a chk-N/savepoint directory, or 'latest' under --checkpoint-dir",
    )
    parser.add_argument("--checkpoint-interval", help="e.g. 2s (overrides checkpoint.interval)")
    parser.add_argument("--monitor-interval", help="e.g. 1s (overrides source.monitor-interval)")
    parser.add_argument("--parallelism", help="local parallelism (overrides parallelism)")
    parser.add_argument(
        "--jar",
        help="msf profile outside Managed Flink (tests, the msf demo): the dependency jar "
        "(flink_app/lib/unilake-flink-deps.jar); the job then runs on a local mini-cluster and a batch run is "
        "waited for",
    )
    return parser.parse_args(argv)


def properties_file(args: argparse.Namespace) -> Path:
    if args.properties:
        return Path(args.properties)
    if os.environ.get("UNILAKE_PROPERTIES"):
        return Path(os.environ["UNILAKE_PROPERTIES"])
    return Path(props.MSF_PROPERTIES_PATH)


#: The property each flag sets (an error in a flag's value names the flag, not the properties file).
FLAG_KEYS = {
    "--profile": props.KEY_PROFILE,
    "--mode": props.KEY_MODE,
    "--input": props.KEY_SOURCE_PATH,
    "--output": props.KEY_SINK_PATH,
    "--checkpoint-interval": props.KEY_CHECKPOINT_INTERVAL,
    "--monitor-interval": props.KEY_SOURCE_MONITOR_INTERVAL,
    "--parallelism": props.KEY_PARALLELISM,
}


def overrides(args: argparse.Namespace) -> dict[str, str]:
    pairs = {key: getattr(args, flag[2:].replace("-", "_")) for flag, key in FLAG_KEYS.items()}
    return {key: value for key, value in pairs.items() if value is not None}


#: What a local run writes into its output folder: anything else there is not ours to replace.
LOCAL_OUTPUT_ENTRIES = frozenset({*OUTPUT_TABLES, PROGRESS_TABLE, "_checkpoints"})


def output_refusal(output: Path, *, overwrite: bool, restoring: bool) -> str | None:
    """Why a local run must not write into ``output`` (None if it may): results already there double every
    table unless ``--overwrite`` replaces them, which it only does for a folder that holds nothing but this
    job's output (a mistyped ``--output ~`` is never emptied)."""
    if output.exists() and not output.is_dir():
        return f"--output / {props.KEY_SINK_PATH}: not a folder: {output}"
    entries = sorted(entry.name for entry in output.iterdir()) if output.is_dir() else []
    if not entries or restoring:
        return None
    foreign = [name for name in entries if name not in LOCAL_OUTPUT_ENTRIES]
    if foreign:
        return (
            f"--output / {props.KEY_SINK_PATH}: {output} holds files this job did not write "
            f"({', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''}); choose an empty or new folder"
        )
    if not overwrite:
        return (
            f"--output / {props.KEY_SINK_PATH}: {output} already holds results ({', '.join(entries)}); "
            "a second run would add to them and double every table: pass --overwrite to replace them, "
            "or choose an empty folder"
        )
    return None


def swap_in(staging: Path, output: Path) -> None:
    """Replace ``output`` by ``staging`` (same parent folder): the old results are moved aside, then removed."""
    old = output.with_name(f".{output.name}.unilake-old-{os.getpid()}")
    if output.exists():
        output.rename(old)
    staging.rename(output)
    shutil.rmtree(old, ignore_errors=True)


def settings_error(error: props.SettingsError, args: argparse.Namespace) -> str:
    """The error's message, naming the flag when the faulty value came from one."""
    given = overrides(args)
    for flag, key in FLAG_KEYS.items():
        if error.key == key and key in given:
            return f"{flag}: {error.reason} (the flag sets {key})"
    return str(error)


def fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_BAD_SETTINGS


def main(argv: list[str] | None = None) -> int:
    started = time.monotonic()
    args = parse_args(argv)
    try:
        settings = props.load_settings(properties_file(args), overrides=overrides(args))
    except props.SettingsError as error:
        return fail(settings_error(error, args))
    if args.idle_timeout <= 0:
        return fail("--idle-timeout: must be a positive number of seconds")
    if settings.profile == "local":
        input_dir = Path(settings.source_path or "")
        if not input_dir.is_dir():
            return fail(f"--input / {props.KEY_SOURCE_PATH}: not a folder: {input_dir}")
        refusal = output_refusal(
            Path(settings.sink_path or ""), overwrite=args.overwrite, restoring=bool(args.restore_from)
        )
        if refusal:
            return fail(refusal)

    # pyflink is imported only now: settings errors never pay for (or print) a JVM start.
    from unilake_job import job, report

    try:
        if settings.profile == "msf" and args.jar:
            jar = Path(args.jar)
            if not jar.is_file():
                return fail(f"--jar: not a file: {jar} (build it: make jar)")
            result = job.submit(settings, run=job.LocalRun(jars=(jar,)))
            if settings.mode == "batch":
                result.wait()
                print("done: the Iceberg sinks are committed")
            return 0
        if settings.profile == "msf":
            # Managed Flink: submit and return; the service runs the job (aws-samples IcebergSink main.py).
            job.submit(settings)
            return 0
        output = Path(settings.sink_path or "")
        staging: Path | None = None
        if settings.mode == "batch":
            # The new results go to a staging folder beside OUT, swapped in once the job finished.
            output.parent.mkdir(parents=True, exist_ok=True)
            staging = output.with_name(f".{output.name}.unilake-staging-{os.getpid()}")
            shutil.rmtree(staging, ignore_errors=True)
            settings = replace(settings, sink_path=str(staging))
        elif args.overwrite and not args.restore_from and output.is_dir():
            shutil.rmtree(output)  # streaming commits as it goes: the old results go before the job starts
        checkpoint_dir = Path(args.checkpoint_dir) if args.checkpoint_dir else output / "_checkpoints"
        restore_from = None
        if args.restore_from == "latest":
            restore_from = job.latest_checkpoint(checkpoint_dir)
            if restore_from is None:
                return fail(f"--restore-from latest: no completed checkpoint under {checkpoint_dir}")
        elif args.restore_from:
            restore_from = Path(args.restore_from)
            if not restore_from.is_dir():
                return fail(f"--restore-from: not a folder: {restore_from}")
        run = job.LocalRun(
            checkpoint_dir=checkpoint_dir if settings.mode == "streaming" else None,
            restore_from=restore_from,
            idle_timeout_s=args.idle_timeout,
        )
        before = report.committed_parts(output)
        try:
            job.run_local(settings, run=run)
        except BaseException:
            if staging is not None:  # a failed batch run leaves OUT as it was
                shutil.rmtree(staging, ignore_errors=True)
            raise
        if staging is not None:
            swap_in(staging, output)
        input_dir = Path(settings.source_path or "")
        inputs = job.visible_inputs(input_dir)
        summary = report.summarize(
            mode=settings.mode,
            elapsed_s=time.monotonic() - started,
            files_read=len(inputs),
            records_read=sum(job.count_lines(input_dir / name) for name in inputs),
            output=output,
            before=before,
        )
        print("\n".join(summary.lines()))
        return 0
    except job.JobFailedError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_JOB_FAILED
    except Exception as error:  # a Flink/py4j error: one line here, the details are in the Flink log
        java = getattr(error, "java_exception", None)  # py4j: the Java message is the useful one
        text = str(java.getMessage()) if java is not None else str(error)
        first_line = next((line for line in text.splitlines() if line.strip()), type(error).__name__)
        print(f"error: the Flink job failed: {first_line.strip()}", file=sys.stderr)
        return EXIT_JOB_FAILED


if __name__ == "__main__":
    sys.exit(main())
