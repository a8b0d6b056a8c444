"""The deployment recipe in deploy/, tested: deploy/smoke.py starts gunicorn
(deploy/gunicorn.conf.py) and nginx (deploy/nginx/civic.conf) on loopback against a
throw-away database on the suite's PostgreSQL server, checks pages, login and co-sign through
nginx, and measures the anonymous archive with and without the micro-cache (QUALITY.md §5:
≥ 10×). The whole suite collects it in its PostgreSQL half only (see conftest.py)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg

from tests.conftest import PG_SERVER

SMOKE = Path(__file__).resolve().parent.parent / "deploy" / "smoke.py"
#: named on the command line without CIVIC_TEST_DATABASE_URL, it uses the local server
SERVER = PG_SERVER or "postgresql://postgres@127.0.0.1:5432/postgres"


def test_deployment_smoke_test_passes_and_the_micro_cache_serves_ten_times_the_rate():
    proc = subprocess.Popen([sys.executable, str(SMOKE), "--server", SERVER, "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    try:
        out, _ = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)      # the script stops what it started, then exits
        out, _ = proc.communicate(timeout=60)
        raise AssertionError(f"the smoke test took more than 5 minutes:\n{out}") from None
    assert proc.returncode == 0, out
    result = json.loads(out.strip().splitlines()[-1])
    assert result["ratio"] >= 10, out

    # Nothing is left behind: no process, no temporary directory, no database.
    for pgid in result["process_groups"]:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            continue
        raise AssertionError(f"process group {pgid} still runs")
    assert not Path(result["tmp"]).exists()
    with psycopg.connect(SERVER) as c:
        left = c.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                         (result["database"],)).fetchall()
    assert not left
