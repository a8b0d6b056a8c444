"""Backups and the restore drill, on the database the suite runs on: the demo (with uploaded
receipts) is backed up with `flask backup create`, restored with `flask backup restore` into
a new empty database and upload folder, and the audit chain, the head hash, every table's
row count and the files come back; a database that is not empty is refused, and a backup
whose record differs from its manifest is reported."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, text

from civic import create_app
from civic.audit.operations import head_hash
from civic.extensions import db
from civic.implementation.models import ExpenseReceipt
from tests.conftest import _config, _upgrade, throwaway_database


@pytest.fixture
def empty_database(tmp_path):
    """A new database with nothing in it (no migration run), and an app on it with an
    upload folder of its own."""
    instance = tmp_path / "restored"
    instance.mkdir()
    with throwaway_database(tmp_path, "civic_restore") as url:
        app = create_app(_config(url, instance))
        yield app, url, instance
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _facts(app) -> tuple[str, dict[str, int]]:
    with app.app_context():
        rows = {t.name: db.session.scalar(text(f'SELECT count(*) FROM "{t.name}"'))
                for t in db.metadata.sorted_tables}
        head = head_hash()
        db.session.remove()
        return head, rows


def _backup(app, runner, tmp_path) -> Path:
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    result = runner.invoke(args=["backup", "create", str(tmp_path / "backups")])
    assert result.exit_code == 0, result.output
    out = Path(result.output.strip().splitlines()[-1])
    assert {p.name for p in out.iterdir()} >= {"manifest.json", "uploads.tar"}
    return out


def test_restore_drill_into_an_empty_database(app, runner, tmp_path, empty_database):
    backup = _backup(app, runner, tmp_path)
    head, rows = _facts(app)
    assert rows["expense_receipt"] >= 1 and rows["audit_event"] > 50
    with app.app_context():
        stem = db.session.scalar(select(ExpenseReceipt.stem))
    restored, _url, _instance = empty_database

    result = restored.test_cli_runner().invoke(args=["backup", "restore", str(backup)])
    assert result.exit_code == 0, result.output
    assert head in result.output
    assert _facts(restored) == (head, rows)
    # the receipts came back with the database: the public page serves them
    client = restored.test_client()
    assert client.get(f"/c/huayuan/receipts/{stem}.jpg").status_code == 200
    assert client.get("/c/huayuan/issues/").status_code == 200
    with restored.app_context():
        verify = restored.test_cli_runner().invoke(args=["audit", "verify"])
    assert verify.exit_code == 0 and head in verify.output


def test_restore_refuses_a_database_that_is_not_empty(app, runner, tmp_path, empty_database):
    backup = _backup(app, runner, tmp_path)
    restored, url, instance = empty_database
    _upgrade(url, instance)   # an empty schema is not empty: a restore would mix records
    result = restored.test_cli_runner().invoke(args=["backup", "restore", str(backup)])
    assert result.exit_code == 2 and "不是空的" in result.output


def test_a_backup_that_differs_from_its_manifest_is_reported(app, runner, tmp_path,
                                                             empty_database):
    backup = _backup(app, runner, tmp_path)
    manifest = json.loads((backup / "manifest.json").read_text("utf-8"))
    manifest["rows"]["decision"] += 1
    manifest["head"] = "f" * 64
    (backup / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    restored, _url, _instance = empty_database
    result = restored.test_cli_runner().invoke(args=["backup", "restore", str(backup)])
    assert result.exit_code == 1
    assert "decision" in result.output and "审计链头" in result.output
