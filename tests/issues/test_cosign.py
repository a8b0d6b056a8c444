"""Co-signing: one per household, exact counts, one threshold crossing — also under races."""
import threading
from datetime import timedelta
from decimal import Decimal

import pytest

from civic import clock
from civic.audit.models import AuditEvent
from civic.audit.operations import verify_chain
from civic.communities.models import Membership
from civic.extensions import db
from civic.issues.models import Cosign, Issue, IssueState
from civic.notifications.models import Notification
from tests.conftest import PASSWORD


def _state(app, issue_id):
    with app.app_context():
        i = db.session.get(Issue, issue_id)
        return (i.state, i.cosign_count, db.session.query(Cosign).filter_by(issue_id=issue_id).count())


def _post(client, c, number, **data):
    return client.post(f"/c/{c.slug}/issues/{number}/cosign", data=data)


def test_cosign_plain_post_redirects_and_counts(app, client, make, auth, make_issue):
    c = make.community()
    iid, n = make_issue(c)
    auth.login(make.resident(c))
    resp = _post(client, c, n, comment="支持")
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/issues/{n}/#cosign-panel")
    assert _state(app, iid) == (IssueState.COLLECTING, 1, 1)
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "联署成功" in html and "你家已联署" in html


def test_cosign_htmx_returns_panel_and_oob_counter(app, client, make, auth, make_issue):
    c = make.community()
    iid, n = make_issue(c)
    auth.login(make.resident(c))
    resp = client.post(f"/c/{c.slug}/issues/{n}/cosign", headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'id="cosign-panel"' in html and "你家已联署" in html
    assert 'id="cosign-count" hx-swap-oob="true"' in html and "1 户联署" in html
    assert "<html" not in html
    assert "HX-Request" in resp.headers["Vary"]


def test_a_cosign_is_a_few_statements_however_many_signed_before(app, client, make, auth,
                                                                 make_issue, count_queries):
    """The busiest write reads the user, then the issue with its community (locked), inserts
    and counts, appends the audit event and answers from what it has: one statement more or
    less is a visible change of its cost. On PostgreSQL the event is the chain's lock, then
    one statement that reads the last link and inserts the next (civic.audit.operations); on
    SQLite the transaction holds the write lock, and the last link is read, then the event
    inserted."""
    c = make.community()
    iid, n = make_issue(c, need=1000)
    for _ in range(3):
        auth.login(make.resident(c))
        _post(client, c, n)
        auth.logout()
    auth.login(make.resident(c))
    with count_queries() as q:
        resp = client.post(f"/c/{c.slug}/issues/{n}/cosign", headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "你家已联署" in resp.get_data(as_text=True)
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
    # user · issue and community · insert · count · chain lock, linked event (PostgreSQL) or
    # chain's last link, event (SQLite)
    assert q.count == 6, q.statements
    assert _state(app, iid)[1:] == (4, 4)


def test_second_resident_of_same_household_refused(app, client, make, auth, make_issue):
    c = make.community()
    unit = make.unit(c)
    first, second = make.resident(c, unit=unit), make.resident(c, unit=unit, tenure="tenant")
    iid, n = make_issue(c)
    auth.login(first)
    _post(client, c, n)
    auth.logout()
    auth.login(second)
    resp = client.post(f"/c/{c.slug}/issues/{n}/cosign", headers={"HX-Request": "true"})
    assert "你家已有人联署过这个议题" in resp.get_data(as_text=True)
    assert _state(app, iid)[1:] == (1, 1)


def test_double_tap_creates_one_cosign(app, client, make, auth, make_issue):
    c = make.community()
    iid, n = make_issue(c)
    auth.login(make.resident(c))
    first = _post(client, c, n)
    second = _post(client, c, n)
    assert first.status_code == second.status_code == 303
    assert _state(app, iid)[1:] == (1, 1)
    resp = client.post(f"/c/{c.slug}/issues/{n}/cosign", headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "你已经联署过这个议题" in resp.get_data(as_text=True)


def test_forged_ids_are_ignored(app, client, make, auth, make_issue):
    c = make.community()
    me = make.resident(c)
    other_unit, other_user = make.unit(c), make.user()
    iid, n = make_issue(c)
    auth.login(me)
    _post(client, c, n, unit_id=other_unit.id, user_id=other_user.id, role="moderator")
    with app.app_context():
        sig = db.session.query(Cosign).filter_by(issue_id=iid).one()
        mine = db.session.query(Membership).filter_by(user_id=me.id).one()
        assert (sig.user_id, sig.unit_id) == (me.id, mine.unit_id)


@pytest.mark.parametrize("who", ["unverified", "revoked", "other_community", "staff"])
def test_only_verified_residents_of_this_community_cosign(app, client, make, auth, make_issue, who):
    c = make.community()
    user = {"unverified": lambda: make.user(),
            "revoked": lambda: make.resident(c, status="revoked"),
            "other_community": lambda: make.resident(make.community()),
            "staff": lambda: make.staff(c, "property")}[who]()
    iid, n = make_issue(c)
    auth.login(user)
    resp = client.post(f"/c/{c.slug}/issues/{n}/cosign", headers={"HX-Request": "true"})
    # a refusal of authorisation is 403, with htmx too (tests/test_hostile_input.py)
    assert resp.status_code == 403 and "只有本小区的认证居民可以联署" in resp.get_data(as_text=True)
    resp = _post(client, c, n)
    assert resp.status_code == 403 and "只有本小区的认证居民可以联署" in resp.get_data(as_text=True)
    assert _state(app, iid)[1:] == (0, 0)


def test_anonymous_cosign_goes_to_login(client, make, make_issue):
    c = make.community()
    iid, n = make_issue(c)
    resp = _post(client, c, n)
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


@pytest.mark.parametrize("state,message", [
    ("draft", None), ("withdrawn", "提议人已撤回"), ("expired", "征集期已结束"),
    ("declined", "不予受理"),
])
def test_closed_issues_refuse_with_reason(app, client, make, auth, make_issue, state, message):
    c = make.community()
    author = make.resident(c)
    iid, n = make_issue(c, author=author, state="draft" if state == "draft" else "collecting")
    if state not in ("draft",):
        with app.app_context():
            db.session.get(Issue, iid).state = IssueState(state)
            db.session.commit()
    auth.login(make.resident(c))
    resp = client.post(f"/c/{c.slug}/issues/{n}/cosign", headers={"HX-Request": "true"})
    if state == "draft":
        assert resp.status_code == 404          # drafts are not visible to others at all
    else:
        assert resp.status_code == 200 and message in resp.get_data(as_text=True)
        plain = _post(client, c, n)
        assert plain.status_code == 303 and message in client.get(plain.headers["Location"]
                                                                  ).get_data(as_text=True)
    assert _state(app, iid)[1:] == (0, 0)


def test_threshold_crossed_once_notifies_moderators_once(app, client, make, auth, make_issue):
    c = make.community()
    mods = [make.staff(c, "moderator"), make.staff(c, "moderator")]
    author = make.resident(c)
    iid, n = make_issue(c, author=author, need=2)
    for _ in range(3):
        auth.login(make.resident(c))
        _post(client, c, n)
        auth.logout()
    with app.app_context():
        issue = db.session.get(Issue, iid)
        assert issue.state is IssueState.AWAITING_TRIAGE and issue.cosign_count == 3
        assert issue.threshold_at is not None
        assert db.session.query(AuditEvent).filter_by(action="issue.threshold").count() == 1
        notes = db.session.query(Notification).filter_by(kind="issue.threshold").all()
        assert sorted(x.user_id for x in notes) == sorted(m.id for m in mods)
        # the proposer heard of the milestones passed: 50% then 100%
        ms = db.session.query(Notification).filter_by(kind="issue.milestone").all()
        assert {x.user_id for x in ms} == {author.id} and len(ms) == 2


def test_cosign_withdraw_until_threshold(app, client, make, auth, make_issue):
    c = make.community()
    iid, n = make_issue(c, need=2)
    a, b = make.resident(c), make.resident(c)
    auth.login(a)
    _post(client, c, n)
    assert client.post(f"/c/{c.slug}/issues/{n}/cosign/withdraw").status_code == 303
    assert _state(app, iid) == (IssueState.COLLECTING, 0, 0)
    _post(client, c, n)
    auth.logout()
    auth.login(b)
    _post(client, c, n)          # threshold reached
    resp = client.post(f"/c/{c.slug}/issues/{n}/cosign/withdraw", headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "不能再撤回" in resp.get_data(as_text=True)
    assert _state(app, iid) == (IssueState.AWAITING_TRIAGE, 2, 2)


def test_cosigns_keep_accumulating_after_threshold(app, client, make, auth, make_issue):
    c = make.community()
    iid, n = make_issue(c, need=1)
    for _ in range(3):
        auth.login(make.resident(c))
        _post(client, c, n)
        auth.logout()
    assert _state(app, iid) == (IssueState.AWAITING_TRIAGE, 3, 3)
    with app.app_context():
        assert db.session.query(AuditEvent).filter_by(action="issue.threshold").count() == 1


def test_owners_threshold_counts_area_and_headcount(app, client, make, auth, make_issue):
    """20% of 5 owner persons (one owns two units) and of 500 m²: tenants do not count."""
    c = make.community()
    b = make.building(c)
    rich = make.owner(c, name="甲")
    units = [make.unit(c, building=b, area="100.00", owner=rich),
             make.unit(c, building=b, area="100.00", owner=rich)]
    units += [make.unit(c, building=b, area="100.00", owner=make.owner(c, name=n)) for n in "乙丙丁"]
    iid, n = make_issue(c, author=make.resident(c, unit=units[4]), kind="owners")
    with app.app_context():
        issue = db.session.get(Issue, iid)
        # the author's own unit counts too, so 5 units/500 m² and 4 persons
        assert issue.base_area == Decimal("500.00") and issue.base_heads == 4
    tenant = make.resident(c, unit=units[2], tenure="tenant")
    auth.login(tenant)
    _post(client, c, n)
    auth.logout()
    with app.app_context():
        issue = db.session.get(Issue, iid)
        assert (issue.cosign_area, issue.cosign_heads) == (Decimal("0"), 0)
        assert issue.state is IssueState.COLLECTING
    # one owner, two households: 200 m² but one person — 40% area, 25% heads: reached (≥20%)
    for u in units[:2]:
        auth.login(make.resident(c, unit=u))
        _post(client, c, n)
        auth.logout()
    with app.app_context():
        issue = db.session.get(Issue, iid)
        assert issue.cosign_area == Decimal("200.00") and issue.cosign_heads == 1
        assert issue.state is IssueState.AWAITING_TRIAGE


def test_threshold_frozen_when_collecting_starts(app, client, make, auth, make_issue):
    c = make.community()
    iid, n = make_issue(c, need=2)
    moderator = make.staff(c, "moderator")
    auth.login(moderator)
    resp = client.post(f"/c/{c.slug}/manage/rules", data={
        "threshold_kind": "households", "households": "50", "collect_days": "30",
        "triage_days": "3", "categories": "停车\n其他"})
    assert resp.status_code == 303
    with app.app_context():
        assert db.session.get(Issue, iid).need_households == 2


def test_share_threshold_freezes_share_of_verified_households(app, make):
    from civic.communities.models import Community
    from civic.issues import operations as ops
    c = make.community()
    for _ in range(11):
        make.resident(c)
    with app.test_request_context("/", method="POST"):
        community = db.session.get(Community, c.id)
        community.threshold_kind = "share"
        issue = Issue(community_id=c.id, number=1, title="t", category="其他", author_id=1)
        ops.freeze_threshold(issue, community)
        assert issue.need_households == 3   # ceil(11 / 5)


def test_expired_issue_is_shown_expired_before_the_job_and_refuses(app, client, make, auth, make_issue, runner):
    c = make.community()
    iid, n = make_issue(c)
    clock.freeze(clock.now() + timedelta(days=31))
    auth.login(make.resident(c))
    resp = client.post(f"/c/{c.slug}/issues/{n}/cosign", headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "征集期已结束" in resp.get_data(as_text=True)
    html = client.get(f"/c/{c.slug}/issues/{n}/").get_data(as_text=True)
    assert "未达标" in html
    assert _state(app, iid)[0] is IssueState.COLLECTING   # not yet recorded
    assert "expired issues: 1" in runner.invoke(args=["jobs", "run"]).output
    assert "expired issues: 0" in runner.invoke(args=["jobs", "run"]).output
    assert _state(app, iid)[0] is IssueState.EXPIRED
    with app.app_context():
        assert db.session.query(AuditEvent).filter_by(action="issue.expire").count() == 1
        assert db.session.query(Notification).filter_by(kind="issue.expired").count() == 1


def test_days_left_shown(app, client, make, make_issue):
    c = make.community()
    iid, n = make_issue(c)
    assert "还剩 29 天" in client.get(f"/c/{c.slug}/issues/{n}/").get_data(as_text=True)


# --- races ---------------------------------------------------------------------------

def _race(app, users, path, n_threads=None):
    barrier = threading.Barrier(len(users))
    results, errors = [], []

    def worker(user):
        try:
            client = app.test_client()
            client.post("/login", data={"phone": user.phone, "password": PASSWORD})
            barrier.wait()
            results.append(client.post(path, headers={"HX-Request": "true"}).status_code)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    return results


def test_concurrent_cosigns_are_exact_and_cross_once(app, make, make_issue):
    c = make.community()
    mod = make.staff(c, "moderator")
    iid, n = make_issue(c, need=10)
    users = [make.resident(c) for _ in range(24)]
    codes = _race(app, users, f"/c/{c.slug}/issues/{n}/cosign")
    assert codes == [200] * 24
    with app.app_context():
        issue = db.session.get(Issue, iid)
        assert issue.cosign_count == 24 == db.session.query(Cosign).filter_by(issue_id=iid).count()
        assert issue.state is IssueState.AWAITING_TRIAGE
        assert db.session.query(AuditEvent).filter_by(action="issue.threshold").count() == 1
        assert db.session.query(AuditEvent).filter_by(action="issue.cosign").count() == 24
        assert db.session.query(Notification).filter_by(kind="issue.threshold",
                                                        user_id=mod.id).count() == 1
        assert verify_chain().ok


def test_concurrent_taps_from_one_household_make_one_cosign(app, make, make_issue):
    c = make.community()
    unit = make.unit(c)
    iid, n = make_issue(c, need=50)
    residents = [make.resident(c, unit=unit)] + [make.resident(c, unit=unit, tenure="tenant")
                                                 for _ in range(3)]
    users = [residents[i % 4] for i in range(20)]   # 20 taps from 4 people of one household
    codes = _race(app, users, f"/c/{c.slug}/issues/{n}/cosign")
    assert all(code == 200 for code in codes)
    assert _state(app, iid)[1:] == (1, 1)


def test_the_pages_cosigners_section_follows_a_cosign_and_a_withdrawal(app, client, make, auth,
                                                                       make_issue):
    """The htmx answer swaps the panel and the counter; the page's co-signers section (by
    building, with the latest words) reloads itself on the "cosigned" event every answer
    triggers, from a fragment of its own, so the page never shows two different counts."""
    c = make.community()
    b = make.building(c, name="7号楼")
    _iid, n = make_issue(c)
    page = client.get(f"/c/{c.slug}/issues/{n}/").get_data(as_text=True)
    section = f'hx-get="/c/{c.slug}/issues/{n}/cosigners"'
    assert section in page and 'hx-trigger="cosigned from:body"' in page
    assert 'hx-sync="this:replace"' in page      # the latest reload wins
    assert "联署住户" not in page          # nobody yet: an empty placeholder to swap
    auth.login(make.resident(c, unit=make.unit(c, building=b)))
    resp = client.post(f"/c/{c.slug}/issues/{n}/cosign", data={"comment": "早该修了"},
                       headers={"HX-Request": "true"})
    assert resp.status_code == 200 and resp.headers["HX-Trigger"] == "cosigned"
    fragment = client.get(f"/c/{c.slug}/issues/{n}/cosigners", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html and section in html
    assert "联署住户" in html and "7号楼 1 户" in html and "早该修了" in html
    # every htmx answer shows the current count, a refusal's too: the section follows it
    again = client.post(f"/c/{c.slug}/issues/{n}/cosign", headers={"HX-Request": "true"})
    assert again.status_code == 200 and again.headers["HX-Trigger"] == "cosigned"
    resp = client.post(f"/c/{c.slug}/issues/{n}/cosign/withdraw", headers={"HX-Request": "true"})
    assert resp.status_code == 200 and resp.headers["HX-Trigger"] == "cosigned"
    html = client.get(f"/c/{c.slug}/issues/{n}/cosigners").get_data(as_text=True)
    assert "联署住户" not in html and "早该修了" not in html and section in html


def test_the_cosigners_section_is_not_shown_for_hidden_or_draft_issues(app, client, make, auth,
                                                                       make_issue):
    c = make.community()
    iid, n = make_issue(c)
    author = make.resident(c)
    _did, draft = make_issue(c, author=author, state="draft")
    assert client.get(f"/c/{c.slug}/issues/{n}/cosigners").status_code == 200
    assert client.get(f"/c/{c.slug}/issues/{n + 100}/cosigners").status_code == 404
    auth.login(author)
    assert client.get(f"/c/{c.slug}/issues/{draft}/cosigners").status_code == 404
    auth.logout()
    with app.app_context():
        db.session.get(Issue, iid).hidden_at = clock.now()
        db.session.commit()
    assert client.get(f"/c/{c.slug}/issues/{n}/cosigners").status_code == 404
    auth.login(make.staff(c, "moderator"))
    assert client.get(f"/c/{c.slug}/issues/{n}/cosigners").status_code == 200


def test_a_refused_comment_comes_back_with_the_message(app, client, make, auth, make_issue):
    """Bad input loses nothing: words over 140 characters are refused with a message, shown
    again in the field to shorten, and nothing is counted."""
    c = make.community()
    iid, n = make_issue(c)
    auth.login(make.resident(c))
    words = "楼道灯" * 47   # 141 characters
    resp = client.post(f"/c/{c.slug}/issues/{n}/cosign", data={"comment": words},
                       headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "附言不能超过 140 字。" in html
    assert f'name="comment" maxlength="140" value="{words}"' in html
    assert _state(app, iid) == (IssueState.COLLECTING, 0, 0)
