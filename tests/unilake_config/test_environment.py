"""Environment files: valid examples load; bad ones are refused naming file, field and reason."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from unilake_config import ConfigError, load_environments
from unilake_config.environment import FLINK_RUNTIMES

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(ROOT / "config", target)
    return target


def edit(config_dir: Path, env: str, path: str, value: object) -> Path:
    """Set ``path`` (dotted) in ``environments/<env>.yaml`` to ``value``; return the file."""
    file = config_dir / "environments" / f"{env}.yaml"
    data = yaml.safe_load(file.read_text())
    node = data
    *parents, leaf = path.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
    file.write_text(yaml.safe_dump(data))
    return file


def test_example_environments_load() -> None:
    environments = {env.name: env for env in load_environments(ROOT / "config")}
    assert set(environments) == {"dev", "staging", "prod"}
    assert environments["prod"].config.termination_protection is True
    assert environments["prod"].config.removal_policy == "retain"
    assert environments["dev"].config.removal_policy == "destroy"
    assert environments["prod"].config.lake_bucket_name == "unilake-prod-lake-333333333333-us-east-1"


def test_removal_policy_defaults_to_retain(config_dir: Path) -> None:
    file = config_dir / "environments" / "dev.yaml"
    data = yaml.safe_load(file.read_text())
    del data["removal_policy"]
    file.write_text(yaml.safe_dump(data))
    (dev,) = load_environments(config_dir, only=["dev"])
    assert dev.config.removal_policy == "retain"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("account", "12345", "is not a 12-digit AWS account id"),
        ("account", 123456789012, "is not a 12-digit AWS account id"),
        ("region", "eu-nowhere-1", "is not an AWS region that offers Managed Service for Apache Flink"),
        ("network.cidr", "10.0.0.0/33", "is not an IPv4 CIDR block"),
        ("network.cidr", "10.0.0.1/16", "is not an IPv4 CIDR block"),
        ("network.flow_log_retention_days", 0, "must be a positive number of days"),
        ("network.flow_log_retention_days", -7, "must be a positive number of days"),
        ("network.flow_log_retention_days", 8, "is not a CloudWatch Logs retention period"),
        ("flink.log_retention_days", -1, "must be a positive number of days"),
        ("lake.noncurrent_version_expiration_days", 0, "greater than 0"),
        ("flink.runtime", "FLINK-9_9", "is not a Managed Flink runtime"),
        ("flink.checkpoint_interval", "soon", "is not a duration"),
        ("flink.min_pause_between_checkpoints", "5m", "must be shorter than checkpoint_interval"),
        ("network.colour", "blue", "unknown setting"),
    ],
)
def test_bad_environment_is_refused_naming_file_field_and_reason(
    config_dir: Path, field: str, value: object, reason: str
) -> None:
    file = edit(config_dir, "staging", field, value)
    with pytest.raises(ConfigError) as error:
        load_environments(config_dir)
    message = str(error.value)
    assert message.startswith(f"{file}: ")
    reported_field = field if field != "flink.min_pause_between_checkpoints" else "flink"
    assert f": {reported_field}: " in message
    assert reason in message


def test_unknown_environment_name_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"unknown environment 'qa' \(known: dev, prod, staging\)"):
        load_environments(ROOT / "config", only=["qa"])


def test_environment_name_must_match_its_file(config_dir: Path) -> None:
    edit(config_dir, "staging", "name", "stage")
    with pytest.raises(ConfigError, match=r"staging.yaml: name: 'stage' must match the file name"):
        load_environments(config_dir)


def test_duplicate_yaml_keys_are_refused(config_dir: Path) -> None:
    file = config_dir / "environments" / "dev.yaml"
    file.write_text(file.read_text() + "region: us-east-1\n")
    with pytest.raises(ConfigError, match=r"dev.yaml: not valid YAML: .*duplicate key 'region'"):
        load_environments(config_dir)


def test_runtimes_match_the_pinned_cfn_lint_schema() -> None:
    import cfnlint

    resources = Path(cfnlint.__file__).parent / "data/schemas/resources"
    schemas = (json.loads(path.read_text()) for path in resources.glob("*.json"))
    schema = next(s for s in schemas if s.get("typeName") == "AWS::KinesisAnalyticsV2::Application")
    accepted = set(schema["properties"]["RuntimeEnvironment"]["enum"])
    flink = {value for value in accepted if value.startswith("FLINK-")}
    assert flink == FLINK_RUNTIMES


def test_the_warehouse_layout_is_iceberg_s_default_under_the_job_s_warehouse() -> None:
    """The job passes only ``warehouse`` and ``database`` to Iceberg's Glue catalog, which places a table at
    ``<warehouse>/<database>.db/<table>``; the catalog stacks create tables at ``table_location``, the roles
    grant on ``table_prefix``: all three must name the same place."""
    for environment in load_environments(ROOT / "config"):
        config = environment.config
        database, bucket = config.catalog.database_name, config.lake_bucket_name
        assert config.table_location("t") == f"{config.warehouse_uri}/{database}.db/t"
        assert config.table_location("t") == f"s3://{bucket}/{config.table_prefix('t')}"
        assert config.database_location == f"s3://{bucket}/{config.database_prefix}"
        assert config.table_location("t").startswith(f"{config.database_location}/")


def copy_environment(config_dir: Path, source: str, target: str) -> Path:
    """What a user does first: copy an environment file and change its name."""
    file = config_dir / "environments" / f"{target}.yaml"
    data = yaml.safe_load((config_dir / "environments" / f"{source}.yaml").read_text())
    data["name"] = target
    file.write_text(yaml.safe_dump(data))
    return file


def test_a_copied_environment_gets_names_derived_from_its_own_name(config_dir: Path) -> None:
    copy_environment(config_dir, "staging", "qa")
    environments = {env.name: env.config for env in load_environments(config_dir)}
    assert environments["qa"].flink.application_name == "unilake-qa"
    assert environments["qa"].catalog.database_name == "unilake_qa"
    assert environments["staging"].flink.application_name == "unilake-staging"
    assert environments["staging"].catalog.database_name == "unilake_staging"


def test_a_dash_in_the_environment_name_becomes_an_underscore_in_the_database_name(config_dir: Path) -> None:
    copy_environment(config_dir, "staging", "qa-eu")
    (qa,) = load_environments(config_dir, only=["qa-eu"])
    assert qa.config.catalog.database_name == "unilake_qa_eu"
    assert qa.config.flink.application_name == "unilake-qa-eu"


@pytest.mark.parametrize(
    ("field", "value"),
    [("flink.application_name", "unilake-staging"), ("catalog.database_name", "unilake_staging")],
)
def test_two_environments_in_one_account_and_region_may_not_share_a_name(
    config_dir: Path, field: str, value: str
) -> None:
    qa = copy_environment(config_dir, "staging", "qa")
    edit(config_dir, "qa", field, value)
    with pytest.raises(ConfigError) as error:
        load_environments(config_dir, only=["dev"])  # checked even when neither environment is synthesized
    (line,) = str(error.value).splitlines()
    staging = config_dir / "environments" / "staging.yaml"
    # files are read in name order: qa.yaml claims the name first, staging.yaml is the one reported
    assert line.startswith(f"{staging}: {field}: {value!r} is also the {field} of {qa} in account 222222222222 ")
    assert "region eu-west-1" in line


def test_the_same_name_in_another_region_is_allowed(config_dir: Path) -> None:
    copy_environment(config_dir, "staging", "qa")
    edit(config_dir, "qa", "flink.application_name", "unilake-staging")
    edit(config_dir, "qa", "region", "us-west-2")
    edit(config_dir, "qa", "network.s3_prefix_list_id", "pl-68a54001")
    names = {env.name: env.config.flink.application_name for env in load_environments(config_dir)}
    assert names["qa"] == names["staging"] == "unilake-staging"


def test_the_problems_of_every_file_are_shown_together(config_dir: Path) -> None:
    staging = edit(config_dir, "staging", "network.cidr", "10.0.0.0/33")
    prod = edit(config_dir, "prod", "account", "12345")
    tables = config_dir / "tables.yaml"
    registry = yaml.safe_load(tables.read_text())
    registry["tables"][0]["columns"][0]["type"] = "text"
    tables.write_text(yaml.safe_dump(registry, sort_keys=False))
    with pytest.raises(ConfigError) as error:
        load_environments(config_dir)
    lines = str(error.value).splitlines()
    assert [line.split(": ")[0] for line in lines] == [str(prod), str(staging), str(tables)], lines


def test_paths_below_the_working_directory_are_shown_relative(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit(config_dir, "staging", "network.cidr", "10.0.0.0/33")
    monkeypatch.chdir(config_dir.parent)
    with pytest.raises(ConfigError, match=r"^config/environments/staging.yaml: network.cidr: "):
        load_environments(config_dir)
    edit(config_dir, "staging", "network.cidr", "10.20.0.0/16")
    (dev,) = load_environments(Path("config"), only=["dev"])
    assert dev.source_file == config_dir / "environments" / "dev.yaml"  # kept absolute for later use
