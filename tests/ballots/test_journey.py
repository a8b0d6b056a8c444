"""Done when: a moderator runs a ballot on using the maintenance fund for a lift in one
building; owners vote on their phones while two paper ballots and one proxy are entered;
turnout shows on the page; the provisional and then the final result are published; the
linked decision goes to its publicity period; the ballot file downloads and
`flask ballots recount` on it reproduces the published result — all through HTTP."""
from __future__ import annotations

import hashlib
import io
import json
from datetime import timedelta

from civic import clock
from civic.audit.operations import verify_chain
from civic.ballots.models import BallotState
from civic.decisions.models import DecisionState
from civic.extensions import db
from tests.ballots.conftest import client_for, decision_state, load
from tests.conftest import PASSWORD, jpeg_bytes

PHONE = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) "
                       "AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.47"}


def phone_client(app, user):
    c = app.test_client()
    c.environ_base.update({"HTTP_USER_AGENT": PHONE["User-Agent"]})
    assert c.post("/login", data={"phone": user.phone, "password": PASSWORD}).status_code == 303
    return c


def local(dt) -> str:
    return clock.local(dt).strftime("%Y-%m-%dT%H:%M")


def test_lift_ballot_from_decision_to_recount(app, client, runner, make, estate,
                                              awaiting_decision, tmp_path):
    h = estate
    c, b3 = h.community, h.b3
    # more households in building 3: E and F have accounts, G votes on paper
    e, f, g = make.owner(c, "戊"), make.owner(c, "己"), make.owner(c, "庚")
    owner_e = make.resident(c, make.unit(c, b3, "401", "95.20", e))
    make.resident(c, make.unit(c, b3, "402", "88.88", f))
    make.unit(c, b3, "501", "120.05", g)
    decision_id = awaiting_decision(h)
    slug = c.slug

    # the moderator starts the ballot from the decision waiting for it
    mod = client_for(app, h.mod)
    form = mod.get(f"/c/{slug}/ballots/new?decision={decision_id}").text
    assert '<option selected value="5">' in form
    opens = clock.now() + timedelta(days=3, hours=2)
    resp = mod.post(f"/c/{slug}/ballots/new", data={
        "decision": str(decision_id), "title": "3号楼加装电梯使用专项维修资金",
        "question": "是否同意使用3号楼专项维修资金 45 万元加装一部电梯？", "item": "5",
        "scope": "buildings", "buildings": [str(b3.id)],
        "opens_at": local(opens), "closes_at": local(opens + timedelta(days=14))})
    assert resp.status_code == 303
    url = resp.headers["Location"]
    number = int(url.rsplit("/", 1)[1])
    notice = client.get(url).text
    assert "已发布通知" in notice and "范围：3号楼" in notice

    # voting opens on time
    from civic.ballots.models import Ballot
    from sqlalchemy import select
    with app.app_context():
        ballot_id = db.session.scalar(select(Ballot.id).where(Ballot.community_id == c.id,
                                                              Ballot.number == number))
    b = load(app, ballot_id)
    clock.freeze(b.opens_at)
    assert mod.post(url + "/open").status_code == 303
    b = load(app, ballot_id)
    assert b.state is BallotState.OPEN and b.total_heads == 7 and str(b.total_area) == "794.13"

    # owners vote on their phones, the committee enters paper ballots and a proxy
    a_phone, b_phone, e_phone = (phone_client(app, u) for u in (h.owner_a, h.owner_b, owner_e))
    assert a_phone.post(url + "/vote", data={"choice": "yes"}).status_code == 303
    assert mod.post(url + "/paper", data={"unit": "3号楼-202", "choice": "yes"}).status_code == 303
    assert b_phone.post(url + "/vote", headers={"HX-Request": "true"},
                        data={"choice": "yes"}).status_code == 204
    page = client.get(url).text
    assert "340.00 / 794.13 ㎡，占 42.81%（须达到 66.67% 即三分之二）" in page
    assert "3 / 7 人，占 42.86%" in page
    assert '<progress class="meter" max="100" value="42.81"' in page
    assert "未达到" in page

    assert e_phone.post(url + "/vote", data={"choice": "no"}).status_code == 303
    assert mod.post(url + "/paper", data={"unit": "3号楼-501", "choice": "abstain"}
                    ).status_code == 303
    assert mod.post(url + "/proxy", content_type="multipart/form-data", data={
        "unit": "3号楼-302", "choice": "yes", "proxy_name": "开发商代理人",
        "document": (io.BytesIO(jpeg_bytes()), "委托书.jpg")}).status_code == 303
    page = client.get(url).text
    assert "705.25 / 794.13 ㎡，占 88.81%" in page and "6 / 7 人，占 85.71%" in page
    assert page.count('<span class="badge badge-ok">已达到</span>') == 2
    receipt = e_phone.get(url).text
    assert "表决意见：反对" in receipt and "涵盖房屋：3号楼-401" in receipt
    roll = mod.get(url + "/manage").text
    assert roll.count("书面表决票</span>") == 2 and roll.count("书面委托</span>") == 1
    assert roll.count("线上表决</span>") == 3 and roll.count("未表决") == 1

    # the provisional result after the deadline
    clock.freeze(b.closes_at)
    assert mod.post(url + "/count").status_code == 303
    b = load(app, ballot_id)
    assert b.state is BallotState.PROVISIONAL and b.passed is True
    assert decision_state(app, decision_id) is DecisionState.AWAITING_BALLOT
    page = client.get(url).text
    assert "表决结果（暂定）" in page and "本事项获得通过。" in page
    assert "同意的专有面积占参与表决面积 69.48%，过半数" in page
    assert "同意的人数占参与表决人数 66.67%，过半数" in page
    assert f"异议期至 {clock.local(b.objection_ends_at).strftime('%Y-%m-%d %H:%M')}" in page

    # the final result after the objection period; the decision starts its publicity
    clock.freeze(b.objection_ends_at)
    assert mod.post(url + "/finalize").status_code == 303
    assert load(app, ballot_id).state is BallotState.FINAL
    assert decision_state(app, decision_id) is DecisionState.PUBLICITY
    page = client.get(url).text
    assert "表决结果（暂定）" not in page and "结果已确定" in page

    # anyone downloads the file and recounts it
    download = client.get(url + "/ballot.json")
    assert download.status_code == 200
    name = download.headers["Content-Disposition"].split("filename=")[1]
    assert name == f"ballot-{slug}-{number}.json"
    assert hashlib.sha256(download.data).hexdigest() in page.replace("<wbr>", "")
    path = tmp_path / name
    path.write_bytes(download.data)
    result = runner.invoke(args=["ballots", "recount", str(path)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary == {
        "participation": {"area": "705.25", "area_total": "794.13", "headcount": 6,
                          "headcount_total": 7, "met": True},
        "approval": {"area_yes": "490.00", "headcount_yes": 4, "met": True},
        "passed": True,
    }
    # the page publishes the same numbers
    assert "参与表决面积 705.25 / 794.13 ㎡，人数 6 / 7，达到参与条件：是" in page
    assert "同意面积 490.00 ㎡，同意人数 4，达到同意比例：是" in page
    assert "是否通过：是" in page
    with app.app_context():
        assert verify_chain().ok
