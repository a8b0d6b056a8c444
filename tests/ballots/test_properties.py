"""Invariants of the count, over random ballots in the public file's format
(`ballotfile.count` → `art278.tally`), and through the JSON file round trip."""
from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from civic.ballots import art278, ballotfile
from civic.ballots.art278 import DEVELOPER_KEY

PROPS = settings(max_examples=200, deadline=None)
OWNERS = [f"o-{i}" for i in range(1, 8)]
CHOICES = ("yes", "no", "abstain")


@st.composite
def ballots(draw, rules=(None, "agree", "majority")):
    """A ballot file (as a dict): 1–14 units held by up to 7 owners and the developer, each
    person voting or silent, an Art. 278 item, and a community rule on non-voters."""
    n = draw(st.integers(min_value=1, max_value=14))
    units = []
    for i in range(n):
        developer = draw(st.integers(0, 5)) == 0
        cents = draw(st.integers(min_value=1, max_value=500_000))
        units.append({"unit": f"{i // 4 + 1}-{101 + i}",
                      "area": str(Decimal(cents).scaleb(-2)),
                      "owner": "developer" if developer else draw(st.sampled_from(OWNERS)),
                      "developer": developer})
    persons = sorted({u["owner"] for u in units})
    votes = {}
    for p in persons:
        # weighted towards yes so that passes, not only failures, are exercised
        c = draw(st.sampled_from([None, "yes", "yes", "yes", "yes", "no", "abstain"]))
        if c is not None:
            votes[p] = c
    data = {"matter": draw(st.integers(1, 9)), "units": units, "votes": votes}
    rule = draw(st.sampled_from(rules))
    if rule:
        data["silent_counts_as"] = rule
    return data


def passed(data) -> bool:
    return ballotfile.summary(ballotfile.count(data))["passed"]


@PROPS
@given(ballots(), st.data())
def test_adding_a_yes_vote_never_turns_a_pass_into_a_fail(data, draw):
    silent = sorted({u["owner"] for u in data["units"]} - set(data["votes"]))
    if not silent:
        return
    who = draw.draw(st.sampled_from(silent))
    after = {**data, "votes": {**data["votes"], who: "yes"}}
    before_r, after_r = ballotfile.count(data), ballotfile.count(after)
    if before_r.approved:
        assert after_r.approved
    if before_r.turnout_met:
        assert after_r.turnout_met
    assert after_r.participating_heads == before_r.participating_heads + 1


@PROPS
@given(ballots(), st.data())
def test_turning_a_no_into_a_yes_never_turns_a_pass_into_a_fail(data, draw):
    against = sorted(p for p, c in data["votes"].items() if c == "no")
    if not against:
        return
    who = draw.draw(st.sampled_from(against))
    after = {**data, "votes": {**data["votes"], who: "yes"}}
    before_r, after_r = ballotfile.count(data), ballotfile.count(after)
    if before_r.approved:
        assert after_r.approved
    assert after_r.turnout_met == before_r.turnout_met
    assert after_r.agree_heads >= before_r.agree_heads


@PROPS
@given(ballots(), st.randoms(use_true_random=False))
def test_order_of_units_and_votes_changes_nothing(data, rnd):
    units = list(data["units"])
    rnd.shuffle(units)
    votes = list(data["votes"].items())
    rnd.shuffle(votes)
    shuffled = {**data, "units": units, "votes": dict(votes)}
    assert ballotfile.count(shuffled) == ballotfile.count(data)
    assert ballotfile.recount(ballotfile.dumps(shuffled)) == ballotfile.recount(
        ballotfile.dumps(data))


@PROPS
@given(ballots(), st.permutations(range(len(OWNERS))), st.sampled_from(["x", "业主", "p_"]))
def test_renaming_owner_keys_changes_nothing(data, perm, prefix):
    names = {o: f"{prefix}{perm[i]}" for i, o in enumerate(OWNERS)}
    names["developer"] = "developer"
    renamed = {**data,
               "units": [{**u, "owner": names[u["owner"]]} for u in data["units"]],
               "votes": {names[p]: c for p, c in data["votes"].items()}}
    a, b = ballotfile.count(data), ballotfile.count(renamed)
    assert a == b
    assert a.reasons == b.reasons


@PROPS
@given(ballots())
def test_a_pass_always_has_turnout_and_both_approval_bounds(data):
    r = ballotfile.count(data)
    s = ballotfile.summary(r)
    assert s["passed"] is r.approved
    if r.approved:
        assert r.turnout_met
        assert r.turnout_area_ratio >= art278.TURNOUT_THRESHOLD
        assert r.turnout_heads_ratio >= art278.TURNOUT_THRESHOLD
        assert s["participation"]["met"] and s["approval"]["met"]
        bound = r.approval_threshold
        if r.approval_strict:
            assert r.agree_area_ratio > bound and r.agree_heads_ratio > bound
        else:
            assert r.agree_area_ratio >= bound and r.agree_heads_ratio >= bound


@PROPS
@given(ballots())
def test_heads_follow_spc_art9(data):
    """One head per owner, however many units; the developer's units are one head."""
    r = ballotfile.count(data)
    owners = {u["owner"] for u in data["units"]}
    assert r.total_heads == len(owners)
    assert r.participating_heads == len(data["votes"])
    assert r.total_area == sum((Decimal(u["area"]) for u in data["units"]), Decimal(0))


@PROPS
@given(ballots())
def test_json_round_trip_reproduces_the_count(data):
    text = ballotfile.dumps(data)
    assert json.loads(text) == {k: v for k, v in data.items()}
    assert ballotfile.recount(text) == ballotfile.summary(ballotfile.count(data))
    # and the same as counting with art278 directly, person by person
    records = [art278.UnitRecord(u["unit"], u["owner"], Decimal(u["area"]), u["developer"])
               for u in data["units"]]
    to = {"yes": art278.Choice.AGREE, "no": art278.Choice.OPPOSE,
          "abstain": art278.Choice.ABSTAIN}
    votes = {DEVELOPER_KEY if p == "developer" else p: to[c] for p, c in data["votes"].items()}
    direct = art278.tally(art278.electorate(records), votes, data["matter"],
                          data.get("silent_counts_as"))
    assert direct == ballotfile.count(data)
