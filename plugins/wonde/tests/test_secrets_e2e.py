"""No secret in clear, anywhere: a real CLI session against the emulator, then a search.

The deployment config names the token as ``${WONDE_TOKEN}``. The CLI (real subprocesses,
debug logging) migrates the store, applies the integration (credentials checked over real
HTTP), runs the first sync, and fails once on a wrong token. Then every byte the session
left behind — stdout, stderr, the SQLite file and its WAL, the connector state folder —
is searched for the token.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from connectkit_wonde.emulator import DEFAULT_SCHOOL, DEFAULT_TOKEN, EmulatorState
from connectkit_wonde.emulator.data import wonde_id

CONFIG = """
[store]
url = "sqlite:///{root}/store.sqlite"
state_dir = "{root}/state"

[plugins]
enabled = ["wonde"]

[[integrations]]
name = "Emulated Academy"
[integrations.connector]
type = "wonde"
school_id = "{school}"
token = "${{WONDE_TOKEN}}"
base_url = "{base}/v1.0"
per_page = 50
[integrations.settings]
sites = ["Main Site"]
deletion = "deactivate"
[integrations.mapping.students]
area = "Student Entrance"
[integrations.mapping.students.fields]
first_name = "first_name"
last_name = "last_name"
"contact_details.emails.primary" = "email"
[integrations.mapping.students.groups]
{groups}
"""


def _cli(cfg: Path, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WONDE_TOKEN": token, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "connectkit", "--config", str(cfg), "--log-level", "debug", *args],
        capture_output=True, text=True, timeout=300, env=env,
    )


def test_token_never_leaves_the_environment(
    emulator: EmulatorState, emulator_url: str, tmp_path: Path
) -> None:
    seed = emulator.schools[DEFAULT_SCHOOL].seed
    groups = "\n".join(f'"{wonde_id("group", seed, y)}" = "Student"' for y in range(7))
    cfg = tmp_path / "connectkit.toml"
    cfg.write_text(CONFIG.format(root=tmp_path, school=DEFAULT_SCHOOL, base=emulator_url,
                                 groups=groups), "utf-8")

    outputs = []
    for args in (("db", "upgrade"), ("integrations", "apply", "--yes"),
                 ("sync", "start", "Emulated Academy", "--yes")):
        done = _cli(cfg, DEFAULT_TOKEN, *args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        outputs += [done.stdout, done.stderr]
    assert "DEBUG" in outputs[-1]  # the sync really logged at debug level

    wrong = "f00dfeed" * 5
    refused = _cli(cfg, wrong, "sync", "start", "Emulated Academy", "--full", "--yes")
    assert refused.returncode != 0
    assert "refused the credentials" in refused.stderr
    outputs += [refused.stdout, refused.stderr]

    for text in outputs:
        assert DEFAULT_TOKEN not in text
        assert wrong not in text
    left_behind = [p for p in tmp_path.rglob("*") if p.is_file() and p != cfg]
    assert any(p.name.startswith("store.sqlite") for p in left_behind)
    for path in left_behind:
        data = path.read_bytes()
        assert DEFAULT_TOKEN.encode() not in data, path
        assert wrong.encode() not in data, path
