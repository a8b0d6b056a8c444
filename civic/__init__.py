"""Civic · 社区议事厅 — the application factory, the only composition root."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask


def create_app(test_config: dict | None = None) -> Flask:
    root = Path(__file__).resolve().parent.parent
    app = Flask(__name__, instance_path=os.environ.get("CIVIC_INSTANCE") or str(root / "instance"),
                template_folder=str(root / "templates"), static_folder=str(root / "static"))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    from civic.urls import DatabaseId
    app.url_map.converters["int"] = DatabaseId

    from civic import config
    app.config.from_mapping(config.load(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from civic import caching, database, errors, i18n, security
    from civic.extensions import compress, csrf, db, htmx, limiter, login_manager, migrate
    compress.init_app(app)   # first registered, so it compresses after every other hook
    database.configure(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(root / "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    database.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    caching.init_app(app)
    errors.init_app(app)

    from civic.accounts import auth
    auth.init_app(app, login_manager)

    from civic import templating
    templating.init_app(app)

    import importlib
    for area in ("accounts", "communities", "roster", "verification", "issues",
                 "notifications", "triage", "moderation", "consultation", "decisions", "ballots",
                 "implementation", "archive", "opendata", "api", "audit", "notices"):
        importlib.import_module(f"civic.{area}.views")  # attaches the routes to the area's bp
        app.register_blueprint(importlib.import_module(f"civic.{area}").bp)

    from civic import cli
    cli.init_app(app)
    # the models' relationships resolved now, once, not on some worker's first request
    # (and before gunicorn forks its workers, which then share them)
    from sqlalchemy.orm import configure_mappers
    configure_mappers()
    return app
