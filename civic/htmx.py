"""Page-or-fragment rendering and redirects that suit both htmx and plain browsers."""
from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, make_response, redirect, render_template, request

from civic.domain import DomainError, Invalid
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


def form_status(code: int) -> int:
    """An invalid form: `code` (400/422) to browsers, 200 to htmx (it swaps only 2xx)."""
    return 200 if request.htmx else code


def attach(form, e: Invalid, aliases: dict[str, str] | None = None) -> None:
    """Put the operation's message at the form field it names — through `aliases` where the
    operation's name differs — or above the form when it names none."""
    name = (aliases or {}).get(e.field, e.field)
    field = form._fields.get(name or "")
    if field is not None:
        field.errors = [*field.errors, e.message]
    else:
        form.form_errors.append(e.message)


def refuse(e: DomainError, target: str, hint: str = ""):
    """A refused operation: roll back; a 403 aborts, anything else is flashed (with `hint`)
    on the page we return to."""
    db.session.rollback()
    if e.status == 403:
        abort(403)
    flash(f"{e.message}{hint}", "error")
    return see_other(target)


def perform(operation: Callable[[], object], done: str, target: str, category: str = "success"):
    """A form-less action: commit once and flash `done`, or roll back and flash the refusal
    (a 403 refusal aborts); then redirect to `target`."""
    try:
        operation()
    except DomainError as e:
        return refuse(e, target)
    db.session.commit()
    flash(done, category)
    return see_other(target)
