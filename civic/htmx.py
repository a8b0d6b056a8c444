"""Page-or-fragment rendering and redirects that suit both htmx and plain browsers."""
from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, make_response, redirect, render_template, request

from civic.domain import DomainError
from civic.extensions import db


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


def perform(operation: Callable[[], object], done: str, target: str, category: str = "success"):
    """A form-less action: commit once and flash `done`, or roll back and flash the refusal
    (a 403 refusal aborts); then redirect to `target`."""
    try:
        operation()
    except DomainError as e:
        db.session.rollback()
        if e.status == 403:
            abort(403)
        flash(e.message, "error")
    else:
        db.session.commit()
        flash(done, category)
    return see_other(target)
