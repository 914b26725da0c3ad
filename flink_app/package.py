"""Build and verify the zip Managed Flink runs: ``main.py`` and ``unilake_job/`` at the root, the jar in ``lib/``.

Pure Python (standard library only). The dependency jar is built by Maven from ``flink_app/pom.xml``::

    make jar          # -> flink_app/lib/unilake-flink-deps.jar (mvn -f flink_app/pom.xml package underneath)
    python flink_app/package.py --jar flink_app/lib/unilake-flink-deps.jar --out dist/unilake-flink.zip

:func:`verify_artifact` is what a deploy step calls to refuse an artifact without the jar.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE_DIR = "unilake_job"
ENTRY_POINT = "main.py"
JAR_DIR = "lib"
#: Never shipped: caches, compiled files, tests and local data.
EXCLUDED_PARTS = frozenset({"__pycache__", "tests", "test", "data", "demo_data"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo")


class ArtifactError(ValueError):
    """The artifact (or an input to build it) is unusable; the message says which file and why."""


def _package_files(source_dir: Path) -> Iterator[tuple[Path, str]]:
    """(path on disk, name in the zip) of the entry point and the pipeline package."""
    entry = source_dir / ENTRY_POINT
    if not entry.is_file():
        raise ArtifactError(f"{entry}: entry point not found")
    yield entry, ENTRY_POINT
    package = source_dir / PACKAGE_DIR
    if not package.is_dir():
        raise ArtifactError(f"{package}: pipeline package not found")
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(source_dir)
        if not path.is_file() or path.suffix in EXCLUDED_SUFFIXES:
            continue
        if EXCLUDED_PARTS.intersection(relative.parts) or path.name.startswith("test_"):
            continue
        yield path, relative.as_posix()


def build_artifact(*, jar: Path, out: Path, source_dir: Path = HERE) -> Path:
    """Write the zip to ``out`` and verify it. Raises :class:`ArtifactError` when the jar is missing."""
    if not jar.is_file():
        raise ArtifactError(f"{jar}: dependency jar not found (build it with `make jar`)")
    if jar.suffix != ".jar":
        raise ArtifactError(f"{jar}: not a .jar file")
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, name in _package_files(source_dir):
            archive.write(path, name)
        archive.write(jar, f"{JAR_DIR}/{jar.name}")
    verify_artifact(out)
    return out


def verify_artifact(zip_path: str | Path) -> None:
    """Refuse an artifact Managed Flink could not run: not a zip, no root ``main.py``, or no ``lib/*.jar``."""
    path = Path(zip_path)
    if not path.is_file():
        raise ArtifactError(f"{path}: artifact not found")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise ArtifactError(f"{path}: not a zip file") from None
    if ENTRY_POINT not in names:
        raise ArtifactError(f"{path}: no {ENTRY_POINT} at the root of the zip")
    if f"{PACKAGE_DIR}/__init__.py" not in names:
        raise ArtifactError(f"{path}: no {PACKAGE_DIR}/ package at the root of the zip")
    jars = [n for n in names if n.startswith(f"{JAR_DIR}/") and n.endswith(".jar") and n.count("/") == 1]
    if not jars:
        raise ArtifactError(
            f"{path}: no dependency jar under {JAR_DIR}/ (the Iceberg/AWS jar from `make jar` "
            "is required on Managed Flink)"
        )
    if len(jars) > 1:
        raise ArtifactError(f"{path}: more than one jar under {JAR_DIR}/ ({', '.join(sorted(jars))})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="package.py", description="Build the Managed Flink zip of unilake.")
    parser.add_argument("--jar", required=True, type=Path, help="the dependency jar built by Maven")
    parser.add_argument("--out", required=True, type=Path, help="the zip to write")
    args = parser.parse_args(argv)
    try:
        out = build_artifact(jar=args.jar, out=args.out)
    except ArtifactError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
