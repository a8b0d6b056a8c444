"""The demo community (a published decision, an open ballot, closed and open rounds, issues
collecting co-signs) with the public address set to the one printed on paper."""
from __future__ import annotations

import pytest

from civic.demo import DEMO_PASSWORD

BASE = "https://yishi.example.cn"


@pytest.fixture
def demo(app, runner):
    app.config["PUBLIC_BASE_URL"] = BASE
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    return app


@pytest.fixture
def login(client):
    def as_(phone: str):
        resp = client.post("/login", data={"phone": phone, "password": DEMO_PASSWORD})
        assert resp.status_code == 303
        return client
    return as_


MODERATOR, RESIDENT, TENANT = "13800000001", "13800000005", "13800000006"
