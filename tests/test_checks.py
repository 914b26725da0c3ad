"""Whole-app checks on the shared synthesis: cdk-nag's report, cfn-lint, and masked snapshots."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from tests.conftest import Synthesis

ROOT = Path(__file__).resolve().parent.parent
ASSET_HASH = re.compile(r"[0-9a-f]{64}")


def test_every_environment_is_synthesized(synthesis: Synthesis) -> None:
    assert set(synthesis.stages) == {"dev", "staging", "prod"}
    assert len(synthesis.all_template_paths()) >= 3


def test_no_unacknowledged_finding_in_any_pack(synthesis: Synthesis) -> None:
    """AwsSolutions, HIPAA Security, NIST 800-53 R5, PCI DSS 3.2.1 and our own pack."""
    findings = [
        f"{plugin['pluginName']}: {violation['ruleName']} on {construct['constructPath']}"
        for plugin in synthesis.validation_report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    ]
    errors = [
        f"{plugin['pluginName']}: {plugin['metadata']}"
        for plugin in synthesis.validation_report["pluginReports"]
        if plugin.get("metadata")
    ]
    assert findings == [], "\n".join(findings)
    assert errors == [], "\n".join(errors)
    assert synthesis.validation_error is None


def test_cfn_lint_is_clean_on_every_template(synthesis: Synthesis) -> None:
    paths = [str(path) for path in synthesis.all_template_paths()]
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "parseable", *paths],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def masked(template_path: Path) -> object:
    """The template with asset hashes masked, so editing a file inside an asset keeps the snapshot."""
    return json.loads(ASSET_HASH.sub("ASSET_HASH", template_path.read_text()))


def test_templates_match_their_snapshots(synthesis: Synthesis, snapshot: SnapshotAssertion) -> None:
    snapshot = snapshot.use_extension(JSONSnapshotExtension)
    for env_name, stack in synthesis.stacks():
        assert masked(synthesis.template_path(env_name, stack.node.id)) == snapshot(name=stack.stack_name)


def test_masking_leaves_no_trace_of_any_asset_hash(synthesis: Synthesis) -> None:
    """What makes the snapshots survive an edit inside an asset folder (flink_app/, the starter's handler):
    every value CDK derives from an asset's content is a 64-hex hash, masked whole, so no prefix of one
    (as in a truncated name) is left in a masked template."""
    asset_hashes = {
        asset_hash
        for manifest in synthesis.outdir.glob("assembly-*/*.assets.json")
        for asset_hash, asset in json.loads(manifest.read_text()).get("files", {}).items()
        if not asset["source"]["path"].endswith(".template.json")  # the templates themselves are assets too
    }
    assert len(asset_hashes) >= 2, "the job's zip and the starter's handler code"
    for path in synthesis.all_template_paths():
        text = json.dumps(masked(path))
        left = sorted(h for h in asset_hashes if h[:8] in text)
        assert left == [], f"{path.name} still holds part of asset hash(es) {left} after masking"


def test_every_acknowledgment_suppresses_a_finding(synthesis: Synthesis) -> None:
    """Acknowledgments are made by the constructs that cause the findings; one that suppresses nothing is stale."""
    from nag_rules.acknowledgments import recorded_acknowledgments, stale_acknowledgments

    assert stale_acknowledgments(synthesis.outdir) == []
    assert len(recorded_acknowledgments(synthesis.outdir)) > 3 * 20  # every environment acknowledges its findings
