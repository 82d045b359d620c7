"""``connectkit integrations list | show`` counts staged records and synced users."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from connectkit.store import migrate
from connectkit.store.engine import make_engine
from connectkit.store.tables import integrations, staged_records, sync_runs, users

from .conftest import Invoke, config_text

NOW = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def _seed(url: str) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    common = {"created_at": NOW, "updated_at": NOW, "mapping_version": 1, "health": "ok"}
    with engine.begin() as conn:
        for ident, name, status in ((1, "Alpha School", "active"), (2, "Beta School", "pending")):
            conn.execute(
                insert(integrations).values(
                    id=ident,
                    name=name,
                    connector="wonde",
                    status=status,
                    connector_config={"school_id": "A1", "token": "${WONDE_TOKEN}"},
                    settings={"sites": ["Main"]},
                    mapping={},
                    **common,
                )
            )
        conn.execute(
            insert(sync_runs).values(
                id=7,
                integration_id=1,
                kind="first",
                status="awaiting_review",
                phase="review",
                checkpoint={},
                counts={},
                started_at=NOW,
            )
        )
        lists = ["error", "error", "duplicate", "ready", "ready", "ready"]
        conn.execute(
            insert(staged_records),
            [
                {
                    "integration_id": 1,
                    "run_id": 7,
                    "role": "student",
                    "mis_id": f"m{i}",
                    "list": name,
                    "fields": {},
                    "record_hash": "h",
                }
                for i, name in enumerate(lists)
            ],
        )
        conn.execute(
            insert(users),
            [
                {
                    "first_name": "F",
                    "last_name": f"L{i}",
                    "integration_id": 1 if i < 4 else None,
                    "mis_id": f"u{i}" if i < 4 else None,
                    "active": True,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(5)
            ],
        )
    engine.dispose()


def test_list_and_show(tmp_path: Path, store_url: str, invoke: Invoke) -> None:
    _seed(store_url)
    cfg = tmp_path / "ck.toml"
    cfg.write_text(config_text(store_url), "utf-8")

    listed = invoke("--config", str(cfg), "integrations", "list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = {r["name"]: r for r in json.loads(listed.output)}
    alpha, beta = rows["Alpha School"], rows["Beta School"]
    assert (alpha["errors"], alpha["duplicates"], alpha["ready"]) == (2, 1, 3)
    assert alpha["users_synced"] == 4
    assert alpha["status"] == "active"
    assert (beta["errors"], beta["ready"], beta["users_synced"], beta["status"]) == (
        0,
        0,
        0,
        "pending",
    )

    table = invoke("--config", str(cfg), "integrations", "list")
    assert "Alpha School" in table.output
    assert "pending" in table.output

    shown = invoke("--config", str(cfg), "integrations", "show", "Alpha School", "--json")
    detail = json.loads(shown.output)
    assert detail["last_run"]["id"] == 7
    assert detail["last_run"]["status"] == "awaiting_review"
    assert detail["connector_config"]["token"] == "${WONDE_TOKEN}"
    assert detail["users_synced"] == 4

    human = invoke("--config", str(cfg), "integrations", "show", "Beta School")
    assert human.exit_code == 0
    assert "Beta School" in human.output

    missing = invoke("--config", str(cfg), "integrations", "show", "Gamma")
    assert missing.exit_code == 3
    assert "no integration named or numbered 'Gamma'" in missing.output
