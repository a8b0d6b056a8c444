"""The fault drill: PostgreSQL stops in the middle of a request and comes back.

The test runs its own throw-away PostgreSQL cluster (initdb into a temporary directory, on
a free loopback port, as the `postgres` system user when the suite runs as root), so the
server the rest of the suite uses is never touched, and it runs whichever database the
suite is on. The app is the real one, with its connection pool and `pool_pre_ping`.

What must hold (QUALITY.md §3 and §4): the request in flight answers 503 with the Chinese
page, nothing of its write is stored, a photo it had already written is removed, every
request while the server is down answers 503, and once the server is back the same app —
not restarted — serves again, and the audit chain still verifies.
"""
from __future__ import annotations

import glob
import io
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from civic import create_app
from civic.audit import operations as audit
from civic.demo import DEMO_PASSWORD
from civic.extensions import db
from tests.conftest import jpeg_bytes


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda p: int(p.split("/")[4]))
    return found[-1] if found else shutil.which(name) or name


class Cluster:
    """A PostgreSQL server of our own: initdb, start, stop (immediate), start again."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="civic-pg-"))
        self.data = self.dir / "data"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.as_postgres = os.geteuid() == 0   # initdb refuses to run as root
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *cmd: str) -> None:
        if self.as_postgres:
            cmd = ("runuser", "-u", "postgres", "--", *cmd)
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-w",
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                        "-c fsync=off", "start")

    def stop(self) -> None:
        """Immediate shutdown: connections are cut, nothing uncommitted survives."""
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass   # already stopped
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def cluster():
    pg = Cluster()
    pg.start()
    yield pg
    pg.remove()


@pytest.fixture
def live(cluster, tmp_path):
    """The app on the throw-away cluster, migrated, with the demo community."""
    from flask_migrate import upgrade
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": cluster.url,
                      "UPLOAD_FOLDER": str(tmp_path / "uploads"),
                      "RATELIMIT_STORAGE_URI": "memory://", "SERVER_NAME": None})
    with app.app_context():
        upgrade(revision="heads")
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _stopping_at_the_audit_record(monkeypatch, cluster):
    """The next write's audit event first stops the server: the write is under way, its
    rows flushed, and cannot commit."""
    record = audit.record

    def stop_then_record(*args, **kwargs):
        monkeypatch.setattr(audit, "record", record)
        cluster.stop()
        return record(*args, **kwargs)
    monkeypatch.setattr(audit, "record", stop_then_record)


def _files(app) -> list[Path]:
    root = Path(app.config["UPLOAD_FOLDER"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_the_database_stops_mid_request_and_the_app_recovers(live, cluster, monkeypatch):
    from civic.issues.models import Cosign, Issue
    client = live.test_client()
    assert client.post("/login", data={"phone": "13800000006", "password": DEMO_PASSWORD}
                       ).status_code == 303
    with live.app_context():
        issue = db.session.scalar(select(Issue).where(Issue.title == "3号楼北侧路灯坏了一个月"))
        page = f"/c/huayuan/issues/{issue.number}/"
        count, cosigns = issue.cosign_count, db.session.scalar(select(func.count(Cosign.id)))
        head = audit.verify_chain().head
        db.session.remove()
    assert client.get(page).status_code == 200

    # 1. a co-sign in flight when the server stops
    _stopping_at_the_audit_record(monkeypatch, cluster)
    resp = client.post(f"{page}cosign")
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "30"
    assert "暂时无法服务" in resp.get_data(as_text=True)

    # 2. while it is down, every page answers 503, signed in or not
    assert client.get(page).status_code == 503
    assert live.test_client().get("/c/huayuan/").status_code == 503

    # 3. it comes back; the same app serves again without a restart
    cluster.start()
    assert client.get(page).status_code == 200

    # 4. nothing of the interrupted co-sign was stored; the chain ends where it did
    with live.app_context():
        again = db.session.get(Issue, issue.id)
        assert (again.cosign_count, db.session.scalar(select(func.count(Cosign.id)))) == \
            (count, cosigns)
        result = audit.verify_chain()
        assert result.ok and result.head == head
        db.session.remove()

    # 5. the household can co-sign now, once
    assert client.post(f"{page}cosign").status_code == 303
    with live.app_context():
        assert db.session.get(Issue, issue.id).cosign_count == count + 1
        db.session.remove()


def test_a_photo_written_before_the_database_stopped_is_removed(live, cluster, monkeypatch):
    """A new issue with a photo: the photo is on disk when the server stops before the
    commit; the request answers 503 and neither the issue nor the file remains."""
    from civic.issues.models import Issue
    client = live.test_client()
    assert client.post("/login", data={"phone": "13800000005", "password": DEMO_PASSWORD}
                       ).status_code == 303
    with live.app_context():
        issues = db.session.scalar(select(func.count(Issue.id)))
        db.session.remove()
    before = _files(live)
    _stopping_at_the_audit_record(monkeypatch, cluster)
    resp = client.post("/c/huayuan/issues/new", content_type="multipart/form-data", data={
        "title": "楼道灯不亮", "body": "5楼楼道灯坏了一周。", "category": "安全",
        "photos": [(io.BytesIO(jpeg_bytes()), "a.jpg")]})
    assert resp.status_code == 503
    assert _files(live) == before
    cluster.start()
    with live.app_context():
        assert db.session.scalar(select(func.count(Issue.id))) == issues
        db.session.remove()
    assert client.get("/c/huayuan/issues/").status_code == 200
