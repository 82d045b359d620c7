"""The installed ``connectkit`` script, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "connectkit.example.toml"
CONNECTKIT = Path(sys.executable).parent / "connectkit"
TOKEN = "subprocess-wonde-token-7781"


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTKIT_")}
    env.update(WONDE_TOKEN=TOKEN, SMTP_PASSWORD="subprocess-smtp-pw-1")
    return subprocess.run(
        [str(CONNECTKIT), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_example_config_is_accepted(tmp_path: Path) -> None:
    done = _run("config", "check", str(EXAMPLE), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "ok (2 integration(s): Sample Academy, Riverside Primary)" in done.stdout


def test_mistakes_reported_with_paths_no_secret(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    text = EXAMPLE.read_text("utf-8")
    text = text.replace('school_id = "A1930499544"', 'school_id = "a1"')
    text = text.replace('every = "weekly"', 'every = "hourly"')
    text = text.replace('sites = ["Riverside"]', 'sites = ["Riverside"]\ncolour = "blue"')
    broken.write_text(text, "utf-8")
    done = _run("config", "check", str(broken), cwd=tmp_path)
    assert done.returncode == 2
    lines = [line.strip() for line in done.stderr.splitlines()]
    assert lines[0] == "3 problem(s):"
    assert "integrations[0].connector.school_id: 'a1' does not match '^[A-Z][0-9]{4,14}$'" in lines
    assert "integrations[1].settings.colour: unknown key" in lines
    assert any(
        line.startswith("integrations[1].settings.schedule.every: 'hourly'") for line in lines
    )
    assert TOKEN not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
