"""The dependency jar shades nothing Flink itself provides: no class of the Flink distribution PyFlink ships
(flink-dist, the table planner and runtime, connectors, Log4j) is inside it, so the job always runs on the
runtime's own Flink classes (Managed Flink FLINK-1_20, or the local mini-cluster)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any


def class_names(jar: Path) -> set[str]:
    with zipfile.ZipFile(jar) as archive:
        return {name for name in archive.namelist() if name.endswith(".class") and not name.startswith("META-INF/")}


def test_nothing_flink_provides_is_shaded_in(pyflink: Any, dependency_jar: Path) -> None:
    flink_lib = Path(pyflink.__file__).parent / "lib"
    flink_jars = sorted(flink_lib.glob("*.jar"))
    assert any(jar.name.startswith("flink-dist") for jar in flink_jars)
    provided: set[str] = set()
    for jar in flink_jars:
        provided |= class_names(jar)
    ours = class_names(dependency_jar)
    flink_own = {name for name in ours & provided if name.startswith(("org/apache/flink/", "org/apache/logging/"))}
    assert flink_own == set()
    # Flink's classes are loaded parent-first: any org.apache.flink class shipped would be dead weight at best.
    assert not {name for name in ours if name.startswith("org/apache/flink/") and name in provided}
    # The few org.apache.flink classes inside come with Iceberg's runtime (its Dropwizard metrics wrapper) and
    # are not part of the distribution.
    assert {name.split("/")[3] for name in ours if name.startswith("org/apache/flink/")} <= {"dropwizard"}
