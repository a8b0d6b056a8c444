"""Settings from the environment; an embedded SQLite database by default."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def _secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def load(instance_path: str) -> dict:
    """The configuration for a normal run (development or production)."""
    db_url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'civic.db'}"
    if db_url.startswith("postgres://"):
        db_url = "postgresql+psycopg://" + db_url[len("postgres://"):]
    elif db_url.startswith("postgresql://"):
        db_url = "postgresql+psycopg://" + db_url[len("postgresql://"):]
    production = os.environ.get("CIVIC_ENV") == "production"
    return {
        "SECRET_KEY": _secret_key(instance_path),
        #: earlier keys, still accepted for sessions signed before a rotation (comma-separated)
        "SECRET_KEY_FALLBACKS": [k for k in os.environ.get("SECRET_KEY_FALLBACKS", "")
                                 .split(",") if k.strip()],
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER") or str(Path(instance_path) / "uploads"),
        "MAX_CONTENT_LENGTH": 40 * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_DURATION": 14 * 24 * 3600,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "HSTS": production,
        #: number of reverse proxies in front of the app whose X-Forwarded-* headers we trust
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        #: anonymous pages and statistics computed once per change (civic.caching); off
        #: with CIVIC_PAGE_CACHE=0
        "PAGE_CACHE": os.environ.get("CIVIC_PAGE_CACHE", "1") != "0",
        "CACHE_TYPE": "RedisCache" if os.environ.get("CACHE_REDIS_URL") else "SimpleCache",
        "CACHE_REDIS_URL": os.environ.get("CACHE_REDIS_URL", ""),
        "CACHE_KEY_PREFIX": "civic:",
        "CACHE_DEFAULT_TIMEOUT": 30,
        "CACHE_THRESHOLD": 2000,
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "INVITATION_CODE_DAYS": int(os.environ.get("INVITATION_CODE_DAYS", "60")),
        #: where the site is reached from outside, for absolute links in e-mails
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000",
        #: outgoing mail; without SMTP_HOST e-mail is off and mails wait in the outbox
        "SMTP_HOST": os.environ.get("SMTP_HOST", ""),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT") or "25"),
        "SMTP_USER": os.environ.get("SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_FROM": os.environ.get("SMTP_FROM", ""),
        "SMTP_STARTTLS": os.environ.get("SMTP_STARTTLS") == "1",
    }
