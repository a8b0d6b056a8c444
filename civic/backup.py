"""Backups: the database and the uploaded files (photos, receipts, proxy documents) in one
directory, and their restoring into an empty database, checked afterwards.

A backup directory holds ``database.sqlite3`` (SQLite's online backup API: a consistent copy
while the app keeps running) or ``database.dump`` (``pg_dump -Fc``), ``uploads.tar`` and
``manifest.json``: the schema revision, the audit chain's head hash and every table's row
count, taken from the same snapshot as the copy (on PostgreSQL, ``pg_dump --snapshot`` with
the snapshot the counts were read in). Restoring refuses a database that is not empty,
then recomputes the audit chain and compares the head and the counts with the manifest.
"""
from __future__ import annotations

import json
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection

from civic import clock
from civic.audit.chain import GENESIS
from civic.extensions import db

FORMAT = 1
DATABASE_SQLITE = "database.sqlite3"
DATABASE_DUMP = "database.dump"
UPLOADS = "uploads.tar"
MANIFEST = "manifest.json"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why (in Chinese)."""


@dataclass
class Check:
    """What restoring found: the chain recomputed, and any differences from the manifest."""

    chain_ok: bool
    head: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.chain_ok and not self.problems


def _tables() -> list[str]:
    return [t.name for t in db.metadata.sorted_tables]


def _facts(conn: Connection) -> dict:
    """Revision, head hash and row counts as `conn` sees the database."""
    rows = {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in _tables()}
    head = conn.execute(text("SELECT hash FROM audit_event ORDER BY seq DESC LIMIT 1")).scalar()
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return {"revision": revision, "head": head or GENESIS, "rows": rows}


def _libpq_url() -> str:
    return db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path() -> Path:
    return Path(db.engine.url.database)


def _uploads() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def create(dest: Path) -> Path:
    """Write a backup into a new directory under `dest`; returns it. Raises BackupError."""
    out = Path(dest) / f"civic-{clock.now():%Y%m%dT%H%M%S%fZ}"
    out.mkdir(parents=True)
    if db.engine.dialect.name == "sqlite":
        source = sqlite3.connect(_sqlite_path())
        target = sqlite3.connect(out / DATABASE_SQLITE)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            source.close()
            target.close()
        copy = create_engine(f"sqlite:///{out / DATABASE_SQLITE}")
        with copy.connect() as conn:
            facts = _facts(conn)
        copy.dispose()
    else:
        with db.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                facts = _facts(conn)
                done = subprocess.run(
                    ["pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot}",
                     f"--file={out / DATABASE_DUMP}", _libpq_url()],
                    capture_output=True, text=True)
        if done.returncode != 0:
            raise BackupError(f"pg_dump 失败：{done.stderr.strip()}")
    uploads = _uploads()
    with tarfile.open(out / UPLOADS, "w") as tar:
        if uploads.is_dir():
            tar.add(uploads, arcname=".")
    manifest = {"format": FORMAT, "created_at": clock.now().isoformat(),
                "database": db.engine.dialect.name, **facts}
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1,
                                           sort_keys=True), encoding="utf-8")
    return out


def _is_empty() -> bool:
    return not set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def restore(src: Path) -> Check:
    """Restore the backup in `src` into the configured database, which must be empty, and
    its files into the upload folder; then check it. Raises BackupError."""
    src = Path(src)
    try:
        manifest = json.loads((src / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BackupError(f"读不到备份说明文件 {MANIFEST}：{e}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError("备份格式不认识。")
    kind = db.engine.dialect.name
    if manifest.get("database") != kind:
        raise BackupError(f"这是 {manifest.get('database')} 的备份，不能恢复到 {kind}。")
    if not _is_empty():
        raise BackupError("目标数据库不是空的。恢复只能在新建的空数据库上进行，以免覆盖现有记录。")
    db.session.remove()
    db.engine.dispose()
    if kind == "sqlite":
        source = sqlite3.connect(src / DATABASE_SQLITE)
        target = sqlite3.connect(_sqlite_path())
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
    else:
        done = subprocess.run(["pg_restore", "--no-owner", "--exit-on-error",
                               f"--dbname={_libpq_url()}", str(src / DATABASE_DUMP)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise BackupError(f"pg_restore 失败：{done.stderr.strip()}")
    uploads = _uploads()
    uploads.mkdir(parents=True, exist_ok=True)
    with tarfile.open(src / UPLOADS) as tar:
        tar.extractall(uploads, filter="data")
    return check(manifest)


def check(manifest: dict) -> Check:
    """Recompute the audit chain and compare the database with the manifest."""
    from civic.audit.operations import verify_chain
    report = verify_chain()
    facts = _facts(db.session.connection())   # the same transaction (SQLite: one writer)
    db.session.remove()
    problems = []
    if facts["revision"] != manifest["revision"]:
        problems.append(f"数据库版本 {facts['revision']}，备份时为 {manifest['revision']}")
    if facts["head"] != manifest["head"]:
        problems.append(f"审计链头 {facts['head']}，备份时为 {manifest['head']}")
    for table, n in manifest["rows"].items():
        if facts["rows"].get(table) != n:
            problems.append(f"表 {table} 有 {facts['rows'].get(table)} 行，备份时为 {n} 行")
    return Check(chain_ok=report.ok, head=facts["head"], problems=problems)
