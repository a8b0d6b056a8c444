"""Login limits kept in Redis when configured; a Redis outage must not switch them off."""
import uuid

import pytest
import redis

from civic import create_app
from civic.extensions import db

REDIS_URL = "redis://127.0.0.1:6379/15"


def _app(db_url, storage):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": db_url,
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_STORAGE_URI": storage,
                      "RATELIMIT_KEY_PREFIX": f"civic-test-{uuid.uuid4().hex[:8]}"})
    return app


def _hammer(app, n):
    client = app.test_client()
    return [client.post("/login", data={"phone": "13912345678", "password": f"wrong-{i}-pass"},
                        environ_base={"REMOTE_ADDR": f"10.9.0.{i}"}).status_code for i in range(n)]


@pytest.fixture
def redis_available():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.ConnectionError:
        pytest.fail("the local Redis at 127.0.0.1:6379 is required for this test")


def test_limits_stored_in_redis(db_url, redis_available):
    app = _app(db_url, REDIS_URL)
    codes = _hammer(app, 11)
    assert codes[:10] == [400] * 10 and codes[10] == 429
    r = redis.Redis.from_url(REDIS_URL)
    prefix = app.config["RATELIMIT_KEY_PREFIX"]
    keys = r.keys(f"*{prefix}*")
    assert keys, "the limiter wrote nothing to Redis"
    r.delete(*keys)
    with app.app_context():
        db.engine.dispose()


def test_storage_outage_keeps_limits(db_url):
    """Nothing listens on port 6399: the limiter falls back to memory, still throttles."""
    app = _app(db_url, "redis://127.0.0.1:6399/0")
    codes = _hammer(app, 11)
    assert 500 not in codes
    assert codes[10] == 429
    with app.app_context():
        db.engine.dispose()
