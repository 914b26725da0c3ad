"""Read and validate ``config/``: every environment file and the table registry.

All problems become one :class:`ConfigError` whose message names the file, the field path and
the reason, so ``app.py`` (and the operator CLI) can print it and exit without a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .environment import EnvironmentConfig
from .tables import TableEntry, TableRegistry, TableSpec

ENVIRONMENTS_DIR = "environments"
TABLES_FILE = "tables.yaml"

ModelT = TypeVar("ModelT", bound=BaseModel)


class ConfigError(Exception):
    """A configuration file is invalid. ``str(error)`` is the message to show the user."""


@dataclass(frozen=True)
class Environment:
    """One environment with its tables resolved (registry plus that environment's overrides)."""

    config: EnvironmentConfig
    tables: tuple[TableSpec, ...]
    source_file: Path

    @property
    def name(self) -> str:
        return self.config.name

    def table(self, name: str) -> TableSpec:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(f"environment {self.name!r} has no table {name!r}")


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that refuses duplicate keys instead of silently keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                mark = key_node.start_mark
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (line {mark.line + 1})", mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path) -> Any:
    """A YAML file's data; :class:`ConfigError` naming the file if it cannot be read or parsed."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the file ({error.strerror})") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None


def _location(loc: Sequence[int | str], data: Any) -> str:
    """Turn pydantic's ``('tables', 0, 'columns', 2, 'type')`` into ``tables[0] (orders).columns[2].type``."""
    text = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("name"), str):
                text += f" ({node['name']})"
        else:
            text += f".{part}" if text else part
            node = node.get(part) if isinstance(node, dict) else None
    return text or "(top level)"


def load_model(model: type[ModelT], data: Any, path: Path) -> ModelT:
    """Validate ``data`` read from ``path`` into ``model``; one :class:`ConfigError` listing file, field, reason."""
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            reason = problem["msg"].removeprefix("Value error, ")
            if problem["type"] == "extra_forbidden":
                reason = "unknown setting (check the spelling)"
            lines.append(f"{path}: {_location(problem['loc'], data)}: {reason}")
        raise ConfigError("\n".join(lines)) from None


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_environment_file(path: Path) -> EnvironmentConfig:
    config = load_model(EnvironmentConfig, read_yaml(path), path)
    if config.name != path.stem:
        raise ConfigError(f"{path}: name: {config.name!r} must match the file name ({path.stem!r})")
    return config


def load_table_registry(path: Path, environment_names: frozenset[str]) -> TableRegistry:
    registry = load_model(TableRegistry, read_yaml(path), path)
    for index, table in enumerate(registry.tables):
        for env_name in table.overrides:
            if env_name not in environment_names:
                raise ConfigError(
                    f"{path}: tables[{index}] ({table.name}).overrides.{env_name}: unknown environment "
                    f"(known: {', '.join(sorted(environment_names))})"
                )
    return registry


def resolve_tables(registry: TableRegistry, env_name: str, path: Path) -> tuple[TableSpec, ...]:
    """The registry's tables as one environment sees them, overrides applied and re-validated."""
    resolved = []
    for index, entry in enumerate(registry.tables):
        override = entry.overrides.get(env_name)
        if override is None:
            resolved.append(TableSpec.model_validate(entry.model_dump(exclude={"overrides"})))
            continue
        base = _table_source_dict(entry)
        merged = _deep_merge(base, override.model_dump(exclude_none=True))
        try:
            resolved.append(TableSpec.model_validate(merged))
        except ValidationError as error:
            problem = error.errors()[0]
            reason = problem["msg"].removeprefix("Value error, ")
            where = ".".join(str(part) for part in problem["loc"]) or "(table)"
            raise ConfigError(
                f"{path}: tables[{index}] ({entry.name}).{where} (with the overrides for {env_name!r}): {reason}"
            ) from None
    return tuple(resolved)


def _table_source_dict(entry: TableEntry) -> dict[str, Any]:
    """The entry as YAML-shaped data (durations as seconds, partition fields as transform strings)."""
    data = entry.model_dump(exclude={"overrides", "partition_spec"}, mode="json")
    data["partition_spec"] = [_transform_text(field.transform, field.source) for field in entry.partition_spec]
    return data


def _transform_text(transform: str, source: str) -> str:
    if "[" in transform:
        name, width = transform.rstrip("]").split("[")
        return f"{name}({width}, {source})"
    return f"{transform}({source})"


def display_path(path: Path) -> Path:
    """``path`` relative to the working directory when it lies below it (as the user typed it), else as is."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def _collisions(configs: Mapping[str, tuple[EnvironmentConfig, Path]]) -> list[str]:
    """Names two environments in one account and region may not share: each such pair is one line."""
    problems = []
    owners: dict[tuple[str, str, str, str], Path] = {}
    for config, path in configs.values():
        for field, value in (
            ("flink.application_name", config.flink.application_name),
            ("catalog.database_name", config.catalog.database_name),
        ):
            key = (config.account, config.region, field, value)
            if key in owners:
                problems.append(
                    f"{path}: {field}: {value!r} is also the {field} of {owners[key]} in account {config.account} "
                    f"region {config.region}; two environments there would share it (give each its own, or "
                    "leave it out to get one derived from the environment's name)"
                )
            else:
                owners[key] = path
    return problems


def load_environments(config_dir: Path, only: Sequence[str] = ()) -> tuple[Environment, ...]:
    """Load every environment under ``config_dir/environments`` (or just ``only``), with its tables.

    Every environment file and the table registry are validated even when ``only`` names a subset, so a
    pull request cannot break an environment nobody synthesized; the problems of every file are reported
    together in one :class:`ConfigError` (one line each), not just the first file's.
    """
    config_dir = display_path(config_dir)
    env_dir = config_dir / ENVIRONMENTS_DIR
    files = sorted(env_dir.glob("*.yaml"))
    if not files:
        raise ConfigError(f"{env_dir}: no environment files (*.yaml) found")
    problems: list[str] = []
    configs: dict[str, tuple[EnvironmentConfig, Path]] = {}
    for path in files:
        try:
            configs[path.stem] = (load_environment_file(path), path)
        except ConfigError as error:
            problems.append(str(error))
    known = sorted(path.stem for path in files)
    unknown = [name for name in only if name not in known]
    if unknown:
        problems.append(f"{env_dir}: unknown environment {', '.join(map(repr, unknown))} (known: {', '.join(known)})")
    problems.extend(_collisions(configs))
    tables_path = config_dir / TABLES_FILE
    environments = []
    try:
        registry = load_table_registry(tables_path, frozenset(known))
    except ConfigError as error:
        problems.append(str(error))
    else:
        for name, (config, path) in configs.items():
            try:
                tables = resolve_tables(registry, name, tables_path)
            except ConfigError as error:
                problems.append(str(error))
                continue
            if not only or name in only:
                environments.append(Environment(config=config, tables=tables, source_file=path.resolve()))
    if problems:
        raise ConfigError("\n".join(problems))
    return tuple(environments)
