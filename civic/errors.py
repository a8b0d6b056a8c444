"""Generic error pages in the user's language; a request id in logs, never a stack trace;
one structured log line per request.

The request log is JSON, one object per line on the ``civic.request`` logger: time, request
id, method, path (without its query string), status, duration and the signed-in user's
pseudonym. No phone number, name, IP address or form value is logged (个人信息保护法)."""
from __future__ import annotations

import json
import logging
import time
import uuid

from flask import Flask, g, render_template, request
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from civic.extensions import db, login_manager

log = logging.getLogger("civic")
#: seconds a client is asked to wait when the database is unavailable
RETRY_AFTER_UNAVAILABLE = 30
request_log = logging.getLogger("civic.request")


def init_app(app: Flask) -> None:
    if request_log.level == logging.NOTSET:
        request_log.setLevel(logging.INFO)

    @app.before_request
    def request_id():
        g.request_id = uuid.uuid4().hex[:12]
        g.request_started = time.perf_counter()

    @app.after_request
    def add_request_id(resp):
        if "request_id" in g:
            resp.headers["X-Request-ID"] = g.request_id
            _log_request(resp.status_code)
        return resp

    def page(error: HTTPException):
        db.session.rollback()
        code = error.code or 500
        tpl = f"errors/{code}.html" if code in (400, 403, 404, 405, 413, 422, 429, 503) else "errors/500.html"
        resp = app.make_response((render_template(tpl, error=error), code))
        if code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            resp.headers["Allow"] = ", ".join(error.valid_methods)
        if isinstance(error, RateLimitExceeded):   # at the latest when its window ends
            resp.headers["Retry-After"] = str(error.limit.limit.get_expiry())
        elif code == 503:   # the database is away: a restart or a fail-over takes about this
            resp.headers["Retry-After"] = str(RETRY_AFTER_UNAVAILABLE)
        return resp

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return page(error)

    @app.errorhandler(OperationalError)
    def database_down(error):
        log.error("database unavailable (request %s): %s", g.get("request_id"),
                  error.__class__.__name__)
        # The page must not need the database: render it for an anonymous visitor, so
        # neither the user loader nor the notification badge queries it.
        g._login_user = login_manager.anonymous_user()
        return page(ServiceUnavailable())

    @app.errorhandler(Exception)
    def unexpected(error):
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return database_down(error)
        log.exception("unhandled error (request %s) on %s %s", g.get("request_id"),
                      request.method, request.path)
        return page(InternalServerError())


def _log_request(status: int) -> None:
    started = g.get("request_started")
    user = getattr(current_user, "pseudonym", None) if current_user else None
    request_log.info(json.dumps({
        "ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "request_id": g.request_id,
        "method": request.method, "path": request.path, "status": status,
        "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        "user": user}, ensure_ascii=False))
