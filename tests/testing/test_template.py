"""The connector template renders into a working plugin that passes the contract kit."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

# Imported here so pytester's sys.modules snapshot keeps one copy of each model class.
import connectkit.testing.contract  # noqa: F401
from connectkit.errors import InvalidCredentialsError
from connectkit.models import Role
from connectkit.plugins.facade import Hooks
from connectkit.plugins.manager import load_plugins
from connectkit.secrets import Secret
from connectkit.testing.template import placeholders, render

pytest_plugins = ["pytester"]
# Nested runs skip plugins they do not need (hypothesis alone costs seconds per run).
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:anyio", "-p", "no:xdist")
DEMO_TOKEN = "demo-token-change-me"


def test_render_fills_every_placeholder(tmp_path: Path) -> None:
    project = render(tmp_path / "acme", "acme_mis", title="Acme MIS")
    files = sorted(p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "pyproject.toml",
        "src/connectkit_acme_mis/__init__.py",
        "src/connectkit_acme_mis/connector.py",
        "src/connectkit_acme_mis/data/school.json",
        "src/connectkit_acme_mis/py.typed",
        "tests/test_contract.py",
    ]
    for path in project.rglob("*"):
        if path.is_file():
            assert "{{" not in path.read_text(encoding="utf-8"), path
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["name"] == "connectkit-acme-mis"
    assert meta["project"]["entry-points"]["connectkit.plugins"] == {
        "acme_mis": "connectkit_acme_mis.connector:AcmeMisConnector"
    }
    assert "${ACME_MIS_TOKEN}" in (project / "README.md").read_text(encoding="utf-8")


def test_render_refuses_bad_names_and_busy_folders(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'Acme-MIS' must match"):
        render(tmp_path / "x", "Acme-MIS")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        render(tmp_path / "busy", "acme")
    assert (tmp_path / "busy" / "keep.txt").read_text() == "mine"
    assert placeholders("a_b2")["class_name"] == "AB2Connector"


@pytest.fixture
def rendered_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The rendered ``demo_mis`` connector module, imported from a sys.path entry."""
    project = render(tmp_path / "demo", "demo_mis")
    monkeypatch.syspath_prepend(str(project / "src"))
    try:
        yield importlib.import_module("connectkit_demo_mis.connector")
    finally:
        for name in [m for m in sys.modules if m.startswith("connectkit_demo_mis")]:
            del sys.modules[name]


def test_rendered_connector_registers_and_serves(
    rendered_module: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connectkit.context import ConnectorContext

    monkeypatch.delenv("CONNECTKIT_PLUGINS", raising=False)
    plugin = rendered_module.DemoMisConnector  # type: ignore[attr-defined]
    pm, report = load_plugins(extra=[("demo_mis", plugin)])
    assert "demo_mis" not in report.failed
    connector = Hooks(pm).connector("demo_mis")
    config = {"school": "DEMO", "token": Secret(DEMO_TOKEN), "page_size": 2}
    ctx = ConnectorContext("demo", config, tmp_path)
    assert connector.check_credentials(ctx).name == "Demo Mis Demo School"
    pages = list(connector.fetch_people(ctx, Role.STUDENT))
    ids = [[p.mis_id for p in page.people] for page in pages]
    assert ids == [["S1", "S2"], ["S3", "S4"], ["S5"]]
    assert pages[0].people[0].first_name == "Zoë"
    bad = ConnectorContext("demo", {"school": "DEMO", "token": Secret("nope-nope")}, tmp_path)
    with pytest.raises(InvalidCredentialsError, match="token was refused"):
        connector.check_credentials(bad)


def test_rendered_template_passes_the_contract_kit(pytester: pytest.Pytester) -> None:
    project = render(pytester.path / "proj", "acme")
    pytester.syspathinsert(project / "src")
    result = pytester.runpytest_inprocess(str(project / "tests"), *QUIET)
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0, result.stdout.str()[-3000:]
    assert outcomes.get("errors", 0) == 0, result.stdout.str()[-3000:]
    assert outcomes["passed"] >= 15  # every kit check bar the capability-gated one


def test_rendered_template_is_ruff_clean(tmp_path: Path) -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    project = render(tmp_path / "lint", "lint_me")
    checked = subprocess.run([ruff, "check", "."], cwd=project, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout
