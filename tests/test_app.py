"""Cross-cutting behaviour: headers, error pages, CSRF, migrations match models."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from civic import create_app
from civic.database import include_object
from civic.extensions import db
from tests.conftest import PASSWORD


def test_security_headers(client):
    resp = client.get("/")
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "object-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert resp.headers["X-Request-ID"]


def test_no_inline_script_in_pages(client):
    html = client.get("/register").get_data(as_text=True)
    assert "<script>" not in html and "onclick" not in html


def test_404_in_chinese(client):
    resp = client.get("/no/such/page")
    assert resp.status_code == 404 and "页面不存在" in resp.get_data(as_text=True)


def test_500_is_generic_with_request_id(app, caplog):
    @app.route("/boom")
    def boom():
        raise RuntimeError("secret detail")
    resp = app.test_client().get("/boom")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 500 and "出错了" in html
    assert "secret detail" not in html and "Traceback" not in html
    rid = resp.headers["X-Request-ID"]
    assert rid in html and any(rid in r.getMessage() for r in caplog.records)


def test_csrf_required_on_post(db_url, tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": db_url,
                      "RATELIMIT_STORAGE_URI": "memory://"})
    client = app.test_client()
    resp = client.post("/register", data={"phone": "13912345678", "password": "Lantern-Bridge-42",
                                          "confirm": "Lantern-Bridge-42"})
    assert resp.status_code == 400
    resp = client.post("/register", data={"csrf_token": "forged", "phone": "13912345678"})
    assert resp.status_code == 400
    # a real token (from the page, as htmx sends it in a header) is accepted
    html = client.get("/register").get_data(as_text=True)
    token = html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    resp = client.post("/register", headers={"X-CSRFToken": token}, data={
        "phone": "13912345678", "password": "Lantern-Bridge-42", "confirm": "Lantern-Bridge-42"})
    assert resp.status_code == 303
    with app.app_context():
        db.engine.dispose()


def test_models_match_migrations(app):
    """No drift: autogenerate against the migrated database finds nothing to do."""
    with app.app_context():
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": include_object}), db.metadata)
    assert diff == []


@pytest.mark.parametrize("path", ["/", "/register", "/login"])
def test_pages_in_english(client, path):
    client.post("/locale", data={"lang": "en"})
    html = client.get(path).get_data(as_text=True)
    assert 'lang="en"' in html
    assert "社区议事厅" not in html.split("<main")[1].split("</main>")[0]


@pytest.mark.parametrize("path", ["/c/x/issues/99999999999/", "/c/x/issues/0/",
                                  "/c/x/issues/-1/", "/c/x/manage/roster/units/99999999999/edit"])
def test_out_of_range_ids_are_404(client, make, path):
    make.community(slug="x")
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("body,title,shown", [
    ("物业", "项目经理", "物业项目经理"), ("物业", "物业项目经理", "物业项目经理"),
    ("居委会", "", "居委会")])
def test_official_name_never_repeats_the_body(app, body, title, shown):
    from civic.templating import official_name
    with app.test_request_context("/"):
        assert official_name(body, title) == shown


def test_responses_are_compressed_for_browsers_that_ask(client, make, auth):
    """Pages, htmx fragments and static files go out compressed (QUALITY.md §5: weight);
    a client that does not ask gets plain bytes; the CSV download is untouched."""
    import gzip
    c = make.community(slug="x")
    auth.login(make.staff(c, "moderator"))
    gz = {"Accept-Encoding": "gzip"}
    page = client.get("/c/x/issues/", headers=gz)
    assert page.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in page.headers["Vary"]
    assert "</html>" in gzip.decompress(page.get_data()).decode()
    fragment = client.get("/c/x/issues/?q=灯", headers={**gz, "HX-Request": "true"})
    html = gzip.decompress(fragment.get_data()).decode() \
        if fragment.headers.get("Content-Encoding") == "gzip" else fragment.get_data(as_text=True)
    assert 'id="issue-list"' in html and "<html" not in html
    assert "HX-Request" in fragment.headers["Vary"]
    css = client.get("/static/css/civic.css", headers={"Accept-Encoding": "br, gzip"})
    assert css.headers["Content-Encoding"] == "br"
    assert "Content-Encoding" not in client.get("/c/x/issues/").headers
    csv = client.get("/c/x/manage/roster/template.csv", headers=gz)
    assert "Content-Encoding" not in csv.headers
    assert csv.get_data(as_text=True).startswith("\ufeff")


def test_each_request_is_logged_as_json_without_personal_data(app, make, caplog):
    import json
    import logging
    user = make.user(display_name="王秀英")
    caplog.set_level(logging.INFO, logger="civic.request")
    client = app.test_client()
    resp = client.post("/login?next=/account", data={"phone": user.phone, "password": PASSWORD})
    client.get(f"/c/nowhere/issues/?q={user.phone}")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "civic.request"]
    assert [(x["method"], x["path"], x["status"]) for x in lines] == [
        ("POST", "/login", 303), ("GET", "/c/nowhere/issues/", 404)]
    assert lines[0]["request_id"] == resp.headers["X-Request-ID"]
    assert lines[1]["user"] and lines[0]["ms"] >= 0
    text = caplog.text
    assert user.phone not in text and "王秀英" not in text and PASSWORD not in text
