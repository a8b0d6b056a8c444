"""Page-or-fragment rendering and redirects that suit both htmx and plain browsers."""
from __future__ import annotations

from flask import make_response, redirect, render_template, request


def render(page: str, fragment: str | None = None, /, status: int = 200, **context):
    """The fragment alone for htmx requests (when given), else the full page."""
    template = fragment if (fragment and request.htmx and not request.htmx.boosted) else page
    resp = make_response(render_template(template, **context), status)
    resp.vary.add("HX-Request")
    return resp


def see_other(url: str):
    """After a successful POST: HX-Location for htmx, 303 See Other for browsers."""
    if request.htmx:
        resp = make_response("", 204)
        resp.headers["HX-Location"] = url
        return resp
    return redirect(url, code=303)
