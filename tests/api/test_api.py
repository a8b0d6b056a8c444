"""The read-only API: its OpenAPI document is valid and matches the routes, every operation
answers as documented (schemathesis against the app, on the demo community), and the
pagination, argument checking, caching and CORS behave as the document says."""
from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from civic.api import spec
from civic.communities.models import Community
from civic.extensions import db
from civic.issues.models import Issue, IssueState

API = "/api/v1"


@pytest.fixture
def demo(app, runner):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    return app


def _get(client, url, **kw):
    r = client.get(url, **kw)
    return r, r.get_json()


# --- the document ---------------------------------------------------------------------------

def test_the_document_is_valid_openapi_3_1(client):
    r = client.get(f"{API}/openapi.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    loaded = schemathesis.openapi.from_dict(r.get_json())
    loaded.validate()  # against the OpenAPI 3.1 meta-schema; raises when invalid
    assert r.get_json()["openapi"] == "3.1.0"


def test_an_invalid_document_would_be_caught():
    """The validation above can fail: a document missing its responses is refused."""
    doc = spec.document(API)
    broken = {**doc, "paths": {"/x": {"get": {"operationId": "x", "responses": 5}}}}
    with pytest.raises(Exception):
        schemathesis.openapi.from_dict(broken).validate()


def test_the_document_and_the_routes_describe_the_same_operations(app):
    """Every /api/v1 route (but the document itself) is in the document, with GET only, and
    every documented path is a route."""
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API + "/") and rule.endpoint != "api.openapi":
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule[len(API):])
            routes[path] = rule.methods - {"HEAD", "OPTIONS"}
    assert set(routes) == set(spec.PATHS)
    for path, methods in routes.items():
        assert methods == {"GET"}, path
        assert set(spec.PATHS[path]) == {"get"}
        declared = {p["name"] for p in spec.PATHS[path]["get"]["parameters"]
                    if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path)), path


def test_the_documentation_page_lists_every_operation(client):
    page = client.get("/api/").get_data(as_text=True)
    for path, item in spec.PATHS.items():
        assert f"GET {API}{path}" in page
        assert item["get"]["summary"] in page
    assert "openapi.json" in page


# --- every operation against its document (schemathesis) ----------------------------------

@pytest.mark.parametrize("path", sorted(spec.PATHS))
def test_every_operation_answers_as_documented(demo, path):
    """Generated requests (valid arguments, and the edges of their ranges) get answers whose
    status code, content type, headers and body conform to the document; never a 500."""
    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", demo)
    operation = schema[path]["GET"]
    calls = []
    with demo.app_context():
        district = db.session.query(Community).filter_by(slug="huayuan").one().district

    def on_demo(case):
        """Random names would only meet 404s (tested on their own): ask about the demo."""
        if case.path_parameters:
            case.path_parameters = {k: {"slug": "huayuan", "district": district}[k]
                                    for k in case.path_parameters}
        return case

    @given(case=operation.as_strategy().map(on_demo))
    @settings(max_examples=30, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        # the WSGI transport does not decompress: ask for the body as it is
        response = case.call_and_validate(headers={"Accept-Encoding": "identity"})
        calls.append(response.status_code)

    run()
    assert 200 in calls  # the generated cases reached real answers, not only refusals


# --- pagination -----------------------------------------------------------------------------

def test_pages_cover_the_list_once_with_links_and_totals(demo, client):
    _, whole = _get(client, f"{API}/communities/huayuan/issues?per_page=100")
    numbers = [i["number"] for i in whole["items"]]
    assert whole["total"] == len(numbers) >= 5 and whole["pages"] == 1
    assert numbers == sorted(numbers, reverse=True)
    seen, url, pages = [], f"{API}/communities/huayuan/issues?per_page=2&state=", 0
    while url:
        r, body = _get(client, url)
        assert r.status_code == 200 and body["per_page"] == 2
        assert body["total"] == len(numbers) and body["pages"] == -(-len(numbers) // 2)
        seen += [i["number"] for i in body["items"]]
        pages += 1
        assert ('rel="next"' in r.headers["Link"]) == (body["links"]["next"] is not None)
        url = body["links"]["next"]
    assert seen == numbers and pages == -(-len(numbers) // 2) >= 3
    r, last = _get(client, f"{API}/communities/huayuan/issues?per_page=2&page={pages}")
    assert last["links"]["next"] is None and last["links"]["prev"].endswith(f"page={pages - 1}")
    assert "state=" not in last["links"]["self"]  # empty arguments are not carried on
    _, beyond = _get(client, f"{API}/communities/huayuan/issues?per_page=2&page={pages + 5}")
    assert beyond["items"] == [] and beyond["links"]["prev"].endswith(f"page={pages}")


def test_drafts_and_hidden_issues_are_not_served(demo, client):
    with demo.app_context():
        drafts = [i.number for i in db.session.query(Issue).filter_by(state=IssueState.DRAFT)]
        visible = db.session.query(Issue).filter(Issue.state != IssueState.DRAFT).first()
        from civic import clock
        visible.hidden_at = clock.now()
        hidden = visible.number
        db.session.commit()
    assert drafts
    _, body = _get(client, f"{API}/communities/huayuan/issues?per_page=100")
    numbers = {i["number"] for i in body["items"]}
    assert numbers and not numbers & set(drafts) and hidden not in numbers
    _, body = _get(client, f"{API}/communities/huayuan/expenses?per_page=100")
    assert hidden not in {e["issue"] for e in body["items"]}


@pytest.mark.parametrize("query, parameter", [
    ("page=0", "page"), ("page=abc", "page"), ("page=100001", "page"), ("per_page=101", "per_page"),
    ("per_page=-1", "per_page"), ("state=draft", "state"), ("building=x", "building"),
    ("q=" + "电" * 51, "q"),
])
def test_a_bad_argument_is_a_400_naming_it(demo, client, query, parameter):
    r, body = _get(client, f"{API}/communities/huayuan/issues?{query}")
    assert r.status_code == 400 and r.mimetype == "application/json"
    assert body["error"]["parameter"] == parameter and body["error"]["message"]


def test_filters_search_in_chinese(demo, client):
    _, body = _get(client, f"{API}/communities/huayuan/decisions?q=电梯")
    assert body["total"] >= 1 and all("电梯" in (d["title"] + d["summary"] + d["issue_title"])
                                      for d in body["items"])
    _, none = _get(client, f"{API}/communities/huayuan/decisions?q=不存在的词")
    assert none["total"] == 0 and none["items"] == [] and none["pages"] == 0
    _, fund = _get(client, f"{API}/communities/huayuan/decisions?funding=maintenance_fund")
    assert fund["total"] >= 1
    assert {d["funding_source"] for d in fund["items"]} == {"maintenance_fund"}
    _, one = _get(client, f"{API}/communities/huayuan/expenses?issue=11")
    assert one["total"] >= 2 and {e["issue"] for e in one["items"]} == {11}


def test_unknown_community_or_street_is_a_json_404(demo, client):
    for url in (f"{API}/communities/nowhere/issues", f"{API}/streets/无此街道/stats"):
        r, body = _get(client, url)
        assert r.status_code == 404 and body["error"]["status"] == 404


def test_answers_are_cacheable_conditional_and_open_to_any_origin(demo, client):
    url = f"{API}/communities/huayuan/decisions"
    r = client.get(url)
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "stale-while-revalidate" in r.headers["Cache-Control"]
    assert r.headers["Cache-Control"].startswith("public")
    again = client.get(url, headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert client.get(f"{API}/communities/nowhere/issues").headers[
        "Access-Control-Allow-Origin"] == "*"


def test_statistics_are_the_statistics_page_figures(demo, client):
    from civic.archive import stats
    from civic.implementation.models import Score
    _, body = _get(client, f"{API}/communities/huayuan/stats")
    with demo.test_request_context():
        c = db.session.query(Community).filter_by(slug="huayuan").one()
        report = stats.report([c])
    f = body["figures"]
    assert (f["response_rate"]["numerator"], f["response_rate"]["denominator"]) == (
        report.total.response.num, report.total.response.den)
    assert (f["satisfaction_rate"]["numerator"], f["satisfaction_rate"]["denominator"]) == (
        report.total.satisfaction.num, report.total.satisfaction.den)
    assert f["ratings"] == {s.value: report.total.scores.get(s, 0) for s in Score}
    assert sum(s["amount_fen"] for s in body["spending"] if s["kind"] == "category") == \
        report.spending.total
    _, street = _get(client, f"{API}/streets/{c.district}/stats")
    assert [x["slug"] for x in street["communities"]] == ["huayuan"]
    assert street["figures"] == f
