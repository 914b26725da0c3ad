"""Time a full synth of every environment with all checks, beside an empty CDK app, in one run.

Each variant runs as its own process, the way `cdk synth` runs the app (jsii start-up included):
- empty:    an App with nothing in it, synthesized;
- unilake:  `python app.py` — every environment, cdk-nag's four packs and ours, built-in
            CloudFormation validation OFF (our choice: cfn-lint covers it in the tests);
- unilake+builtin: the same with aws-cdk-lib's built-in CloudFormation validation ON,
            to show what that choice saves.
Prints the median of N runs for each and the ratios to the empty app.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EMPTY_APP = "import aws_cdk as cdk; cdk.App().synth()"


def timed(command: list[str], context: dict[str, object] | None = None) -> float:
    with tempfile.TemporaryDirectory() as outdir:
        env = {**os.environ, "CDK_OUTDIR": outdir, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
        if context is not None:
            env["CDK_CONTEXT_JSON"] = json.dumps(context)
        start = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from app import cdk_json_context

    context = cdk_json_context(ROOT)
    python = sys.executable
    variants = {
        "empty CDK app": ([python, "-c", EMPTY_APP], None),
        "unilake, all envs + all checks": ([python, "app.py"], context),
        "unilake, + built-in CFN validation": (
            [python, "app.py"],
            {**context, "unilake:builtin-validation": "true"},
        ),
    }
    timed(variants["empty CDK app"][0])  # warm the jsii/node caches once
    medians = {}
    for name, (command, ctx) in variants.items():
        runs = [timed(command, ctx) for _ in range(args.runs)]
        medians[name] = statistics.median(runs)
        print(f"{name:40s} median {medians[name]:6.2f} s  runs: {', '.join(f'{r:.2f}' for r in runs)}")
    empty = medians["empty CDK app"]
    for name, median in medians.items():
        print(f"ratio {name:34s} {median / empty:5.2f}x empty app")


if __name__ == "__main__":
    main()
