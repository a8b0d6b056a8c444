"""Response headers: CSP without inline script, no sniffing, referrer policy, HSTS; no
NUL characters in what a request sends."""
from __future__ import annotations

from flask import Flask, abort, request

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def _has_nul(multidict) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values)
               for key, values in multidict.lists())


def init_app(app: Flask) -> None:
    @app.before_request
    def no_nul_characters():
        """No text the app takes may hold a NUL character (PostgreSQL cannot store one, and
        no person types one): such a request is refused with 400 before any view runs."""
        if _has_nul(request.args) or (request.method == "POST" and _has_nul(request.form)):
            abort(400)

    @app.after_request
    def headers(resp):
        h = resp.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("X-Frame-Options", "DENY")
        if app.config.get("HSTS"):
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return resp
