"""The package's wings: imports go one way, the engine needs no Kafka, imports do no work.

Wings: the engine (``streams/*.py`` at the top, ``rules/``, ``text/``), the worker, the tools
and the CLI. The engine imports only itself; the worker and the tools each import the engine
and themselves, never each other; the CLI may import all. Inside the engine, models and
settings come first, then text, then rules, then what is built on them (the classifier,
validation, stories, bursts, schemas) and the package itself. Checked on every import
statement of every module, including those inside functions, so a lazy import counts too.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

PACKAGE = ROOT / "streams"
ALLOWED = {
    "engine": {"engine"},
    "worker": {"engine", "worker"},
    "tools": {"engine", "tools"},
    "cli": {"engine", "worker", "tools", "cli"},
}
ENGINE_LAYERS = {"models": 0, "settings": 0, "text": 1, "rules": 2}  # the rest of it: 3
KAFKA_AND_METRICS = {"faust", "mode", "aiokafka", "kafka", "prometheus_client"}


def module_names() -> dict[str, Path]:
    names = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


MODULES = module_names()


def imported(name: str) -> set[str]:
    """Every module ``name`` imports: ``streams.*`` by module, others by their top package."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[name].read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{name}: relative import"
            for alias in node.names:  # `from streams.worker import metrics` names a module
                full = f"{node.module}.{alias.name}"
                found.add(full if full in MODULES else node.module)
    return {n if n.split(".")[0] == "streams" else n.split(".")[0] for n in found}


def wing(name: str) -> str:
    if name == "streams.__main__":  # `python -m streams` is the command line
        return "cli"
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else "engine"


def engine_layer(name: str) -> int:
    parts = name.split(".")
    return ENGINE_LAYERS.get(parts[1], 3) if len(parts) > 1 else 4


def test_every_module_is_in_a_wing_and_the_wings_exist():
    wings = {wing(name) for name in MODULES}
    assert wings == set(ALLOWED)
    assert {"streams.engine", "streams.worker.app", "streams.cli"} <= MODULES.keys()


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_go_down_the_wings(name):
    ours = {target for target in imported(name) if target.startswith("streams")}
    upward = {target for target in ours if wing(target) not in ALLOWED[wing(name)]}
    assert not upward, f"{name} ({wing(name)}) imports across the wings: {sorted(upward)}"
    if wing(name) == "engine":
        higher = {t for t in ours if engine_layer(t) > engine_layer(name)}
        assert not higher, f"{name} imports a later part of the engine: {sorted(higher)}"
        kafka = imported(name) & KAFKA_AND_METRICS
        assert not kafka, f"the engine module {name} imports {sorted(kafka)}"


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, **env},
    )


def test_the_engine_classifies_without_kafka_faust_or_prometheus():
    code = """
import json, sys
from streams import Classifier
from streams.models import Article

body = "Parlemen Rusia meratifikasi perjanjian pertahanan dengan Korea Utara."
alerts = Classifier.from_packs().classify(Article(id="notebook", body=body))
print(json.dumps({"rules": [a.rule_id for a in alerts], "modules": sorted(sys.modules)}))
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert "treaty_ratified" in found["rules"]
    kafka = [name for name in found["modules"] if name.split(".")[0] in KAFKA_AND_METRICS]
    assert kafka == []
    ours = [name for name in found["modules"] if name.split(".")[0] == "streams"]
    assert [name for name in ours if wing(name) != "engine"] == []


def test_importing_any_module_builds_no_app_and_reads_no_rules():
    """A worker module may be imported by a test or a tool for one helper: that must not build
    the Faust app, compile the rule files or reach for a broker."""
    names = [name for name in MODULES if not name.endswith("__main__")]
    code = f"""
import gc, importlib
for name in {names!r}:
    importlib.import_module(name)
import faust
assert not [o for o in gc.get_objects() if isinstance(o, faust.App)], "a Faust app was built"
"""
    result = run_python(
        code,
        PANTAU_RULE_FILES=json.dumps(["/nonexistent/rules.yaml"]),
        PANTAU_BROKER="kafka://127.0.0.1:1",
    )
    assert result.returncode == 0, result.stderr
