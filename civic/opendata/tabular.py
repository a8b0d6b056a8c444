"""CSV and JSON answers for public lists, cacheable and conditional.

CSV cells that a spreadsheet would read as a formula (starting with = + - @, a tab or a
carriage return) are prefixed with an apostrophe, so that a payee named
``=HYPERLINK(...)`` stays text (CSV injection). Files start with a UTF-8 byte-order mark,
so that Excel opens Chinese text correctly.
"""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from decimal import Decimal

from flask import Response, request

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: anonymous lists may be served from a cache for a minute, and stale for five more while
#: the cache revalidates
PUBLIC_CACHE = "public, max-age=60, stale-while-revalidate=300"


def neutralise(value) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def _conditional(resp: Response, last_modified: datetime | None) -> Response:
    resp.headers["Cache-Control"] = PUBLIC_CACHE
    if last_modified is not None:
        resp.last_modified = last_modified
    resp.add_etag()
    return resp.make_conditional(request)


def csv_response(filename: str, header: list[str], rows, last_modified=None) -> Response:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        # numbers are written as they are: a negative amount is data, not a formula
        writer.writerow([v if isinstance(v, (int, Decimal)) and not isinstance(v, bool)
                         else neutralise(v) for v in row])
    resp = Response(out.getvalue(), mimetype="text/csv")
    resp.headers["Content-Type"] = "text/csv; charset=utf-8"
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _conditional(resp, last_modified)


def json_response(payload, last_modified=None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True, indent=1)
    resp = Response(body, mimetype="application/json")
    return _conditional(resp, last_modified)


def xml_response(body: str, mimetype: str, last_modified=None) -> Response:
    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Type"] = f"{mimetype}; charset=utf-8"
    return _conditional(resp, last_modified)
