"""Conditional GET for HTML pages: an ETag from the body, 304 when the browser (or a cache)
already has it, and Cache-Control.

A page for an anonymous visitor that carries no session state (no CSRF token, no flashed
message) is the same for everyone, so shared caches may keep it briefly and serve it stale
while they revalidate. Anything personal is private to the browser and revalidated on each
use. Views that set their own Cache-Control keep it."""
from __future__ import annotations

from flask import Flask, g, request, session
from flask_login import current_user

#: anonymous, session-free pages: fresh for 30 s, then served stale for up to 5 minutes while
#: the cache revalidates (a conditional request, usually answered 304)
PUBLIC = "public, max-age=30, stale-while-revalidate=300"
PRIVATE = "private, no-cache"


def init_app(app: Flask) -> None:
    @app.after_request
    def conditional(resp):
        if (request.method not in ("GET", "HEAD") or resp.status_code != 200
                or resp.mimetype != "text/html" or resp.is_streamed):
            return resp
        if "Cache-Control" not in resp.headers:
            personal = (current_user.is_authenticated or "csrf_token" in g
                        or session.modified or request.headers.get("HX-Request"))
            resp.headers["Cache-Control"] = PRIVATE if personal else PUBLIC
        resp.add_etag()
        return resp.make_conditional(request)
