"""Decision rules of a consultation round: exhaustive truth tables against an independent
reference, plus hand-written boundary cases (DESIGN.md §4)."""
from __future__ import annotations

import itertools
import random
import re
import subprocess
import sys
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest

from civic.consultation import rules as r
from civic.consultation.rules import Body, Outcome, Rule, Seat, Tally, Vote

A, O, X = Vote.AGREE, Vote.OPPOSE, Vote.ABSTAIN
CJK = re.compile(r"[\u4e00-\u9fff]")
HALF = Fraction(1, 2)


# --------------------------------------------------------------------------- fixtures

def make_seats(committee: int, association: int, prop: int, resident: int = 0):
    """Seats named C1.., A1.., P1.., R1.. in that order."""
    seats = []
    for prefix, body, n in (("C", Body.COMMITTEE, committee), ("A", Body.ASSOCIATION, association),
                            ("P", Body.PROPERTY, prop), ("R", Body.RESIDENT, resident)):
        seats += [(f"{prefix}{i}", body) for i in range(1, n + 1)]
    return seats


def ballot(seats, assignment):
    """`assignment` is one entry per seat: a Vote, or None for absent."""
    return {sid: v for (sid, _), v in zip(seats, assignment) if v is not None}


def all_ballots(seats):
    for assignment in itertools.product((A, O, X, None), repeat=len(seats)):
        yield ballot(seats, assignment)


# --------------------------------------------------------------------------- reference

def ref_decide(rule, seats, votes, quorum=HALF):
    """Written independently: lists of strings and Fractions, no integer cross-multiplying."""
    cast = [votes[sid].value for sid, _ in seats if sid in votes]
    if len(cast) == 0:
        return False
    if Fraction(len(cast), len(seats)) < Fraction(quorum):
        return False
    groups = {}
    for sid, body in seats:
        groups.setdefault(body.value, []).append(votes[sid].value if sid in votes else "absent")
    if rule == "consensus":
        for group in groups.values():
            present = [v for v in group if v != "absent"]
            if not present:
                return False
            for v in present:
                if v != "agree":
                    return False
        return True
    if rule == "majority_each":
        for group in groups.values():
            present = [v for v in group if v != "absent"]
            if not present:
                return False
            if not Fraction(present.count("agree"), len(present)) > Fraction(1, 2):
                return False
        return True
    share = Fraction(cast.count("agree"), len(cast))
    if rule == "majority_all":
        return share > Fraction(1, 2)
    if rule == "two_thirds_all":
        return share >= Fraction(2, 3)
    raise AssertionError(rule)


def ref_choose(rule, seats, ballots_by_option, quorum=HALF):
    passing = [(sum(1 for v in b.values() if v == A), opt)
               for opt, b in ballots_by_option.items() if ref_decide(rule, seats, b, quorum)]
    if not passing:
        return None
    top = max(n for n, _ in passing)
    winners = [opt for n, opt in passing if n == top]
    return winners[0] if len(winners) == 1 else None


def check_outcome(outcome: Outcome, rule, seats, votes, quorum=HALF):
    expected = ref_decide(rule.value, seats, votes, quorum)
    assert outcome.passed is expected, (rule, votes)
    assert outcome.rule is rule
    # counts
    bodies = [b for b in Body if any(body is b for _, body in seats)]
    assert list(outcome.per_body) == bodies
    for b in bodies:
        ids = [sid for sid, body in seats if body is b]
        c = Counter(votes[sid] for sid in ids if sid in votes)
        t = outcome.per_body[b]
        assert (t.seats, t.agree, t.oppose, t.abstain, t.absent) == (
            len(ids), c[A], c[O], c[X], len(ids) - sum(c.values()))
    c = Counter(votes.values())
    assert outcome.totals == Tally(len(seats), c[A], c[O], c[X])
    assert outcome.totals.voted == len(votes)
    # reasons: always Chinese; exactly one when passed
    assert outcome.reasons and all(isinstance(s, str) and CJK.search(s) for s in outcome.reasons)
    if outcome.passed:
        assert len(outcome.reasons) == 1
        assert outcome.quorum_met


# --------------------------------------------------------------------------- truth tables

CONFIGS = [
    (1, 1, 1, 0),
    (2, 1, 1, 0),
    (1, 2, 1, 0),
    (2, 2, 1, 0),
    (3, 1, 1, 0),
    (2, 2, 2, 0),
    (1, 1, 1, 1),
    (2, 1, 1, 1),
    (1, 1, 1, 2),
]


@pytest.mark.parametrize("rule", list(Rule))
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "+".join(map(str, c)))
def test_truth_table_against_reference(rule, config):
    seats = make_seats(*config)
    n = 0
    passed = 0
    for votes in all_ballots(seats):
        outcome = r.decide(rule, seats, votes)
        check_outcome(outcome, rule, seats, votes)
        n += 1
        passed += outcome.passed
    assert n == 4 ** len(seats)
    assert 0 < passed < n  # the table is not degenerate


@pytest.mark.parametrize("quorum", [Fraction(0), Fraction(1, 3), Fraction(2, 3), Fraction(1)])
@pytest.mark.parametrize("rule", list(Rule))
@pytest.mark.parametrize("config", [(2, 1, 1, 0), (2, 2, 1, 0), (1, 1, 1, 1)],
                         ids=lambda c: "+".join(map(str, c)))
def test_truth_table_with_other_quorums(rule, config, quorum):
    seats = make_seats(*config)
    for votes in all_ballots(seats):
        outcome = r.decide(rule, seats, votes, quorum=quorum)
        check_outcome(outcome, rule, seats, votes, quorum)
        assert outcome.quorum_met is (
            len(votes) > 0 and Fraction(len(votes), len(seats)) >= quorum)


@pytest.mark.parametrize("rule", list(Rule))
def test_choose_truth_table_two_options(rule):
    seats = make_seats(1, 1, 1)
    every = list(all_ballots(seats))
    for first, second in itertools.product(every, repeat=2):
        options = {"plan": first, "维持现状": second}
        assert r.choose(rule, seats, options) == ref_choose(rule.value, seats, options)


@pytest.mark.parametrize("rule", list(Rule))
def test_choose_random_three_options(rule):
    rng = random.Random(20240501)
    seats = make_seats(2, 2, 1, 1)
    # bias towards agree so that several options often pass together
    pool = (A, A, A, O, X, None)
    for _ in range(1500):
        options = {k: ballot(seats, [rng.choice(pool) for _ in seats]) for k in (1, 2, 3)}
        assert r.choose(rule, seats, options) == ref_choose(rule.value, seats, options)


# --------------------------------------------------------------------------- boundaries

def votes_of(**kw):
    return {k: v for k, v in kw.items()}


def passed(rule, seats, votes, **kw):
    return r.decide(rule, seats, votes, **kw).passed


S211 = make_seats(2, 1, 1)    # C1 C2 A1 P1
S311 = make_seats(3, 1, 1)    # C1 C2 C3 A1 P1
S222 = make_seats(2, 2, 2)
S333 = make_seats(3, 3, 3)


class TestMajorityAll:
    def test_exact_tie_fails(self):
        out = r.decide(Rule.MAJORITY_ALL, S211, votes_of(C1=A, C2=A, A1=O, P1=O))
        assert not out.passed
        assert "平票" in out.reasons[0]

    def test_one_more_than_half_passes(self):
        assert passed(Rule.MAJORITY_ALL, S211, votes_of(C1=A, C2=A, A1=A, P1=O))

    def test_abstention_counts_in_denominator(self):
        # 2 agree of 4 voted (1 abstain) is a tie, not 2 of 3
        assert not passed(Rule.MAJORITY_ALL, S211, votes_of(C1=A, C2=A, A1=O, P1=X))

    def test_absent_seat_is_not_in_denominator(self):
        # 2 agree of 3 voted passes even though 2 of 4 seats is only half
        assert passed(Rule.MAJORITY_ALL, S211, votes_of(C1=A, C2=A, A1=O))

    def test_bodies_are_not_counted_separately(self):
        # the whole association and property oppose, committee carries it 3 to 2
        assert passed(Rule.MAJORITY_ALL, S311, votes_of(C1=A, C2=A, C3=A, A1=O, P1=O))
        assert not passed(Rule.MAJORITY_EACH, S311, votes_of(C1=A, C2=A, C3=A, A1=O, P1=O))


class TestTwoThirds:
    def test_exactly_two_thirds_passes(self):
        assert passed(Rule.TWO_THIRDS_ALL, make_seats(1, 1, 1), votes_of(C1=A, A1=A, P1=O))
        assert passed(Rule.TWO_THIRDS_ALL, S222,
                      votes_of(C1=A, C2=A, A1=A, A2=A, P1=O, P2=X))
        assert passed(Rule.TWO_THIRDS_ALL, S333,
                      votes_of(C1=A, C2=A, C3=A, A1=A, A2=A, A3=A, P1=O, P2=O, P3=O))

    def test_one_below_two_thirds_fails(self):
        out = r.decide(Rule.TWO_THIRDS_ALL, S333,
                       votes_of(C1=A, C2=A, C3=A, A1=A, A2=A, A3=O, P1=O, P2=O, P3=O))
        assert not out.passed  # 5 of 9 < 6 of 9
        assert "三分之二" in out.reasons[0]
        # 3 of 5 = 0.6 < 0.666…
        assert not passed(Rule.TWO_THIRDS_ALL, S311, votes_of(C1=A, C2=A, C3=A, A1=O, P1=O))
        # 3 of 5 with abstentions — they count as voted
        assert not passed(Rule.TWO_THIRDS_ALL, S311, votes_of(C1=A, C2=A, C3=A, A1=X, P1=X))

    def test_just_above_two_thirds_passes(self):
        # 3 of 4 (0.75) and 5 of 7 (0.714…)
        assert passed(Rule.TWO_THIRDS_ALL, S211, votes_of(C1=A, C2=A, A1=A, P1=O))
        seats = make_seats(3, 2, 1, 1)
        assert passed(Rule.TWO_THIRDS_ALL, seats,
                      votes_of(C1=A, C2=A, C3=A, A1=A, A2=A, P1=O, R1=O))
        assert not passed(Rule.TWO_THIRDS_ALL, seats,
                          votes_of(C1=A, C2=A, C3=A, A1=A, A2=O, P1=O, R1=O))


class TestMajorityEach:
    def test_tie_within_a_body_fails(self):
        out = r.decide(Rule.MAJORITY_EACH, S211, votes_of(C1=A, C2=O, A1=A, P1=A))
        assert not out.passed
        assert len(out.reasons) == 1 and "居委会" in out.reasons[0] and "平票" in out.reasons[0]

    def test_abstention_within_a_body_makes_a_tie(self):
        assert not passed(Rule.MAJORITY_EACH, S211, votes_of(C1=A, C2=X, A1=A, P1=A))

    def test_absent_seat_within_a_body_does_not_count(self):
        assert passed(Rule.MAJORITY_EACH, S211, votes_of(C1=A, A1=A, P1=A))

    def test_two_of_three_in_a_body_passes(self):
        assert passed(Rule.MAJORITY_EACH, S311, votes_of(C1=A, C2=A, C3=O, A1=A, P1=A))

    def test_resident_body_must_also_have_a_majority(self):
        seats = make_seats(1, 1, 1, 1)
        out = r.decide(Rule.MAJORITY_EACH, seats, votes_of(C1=A, A1=A, P1=A, R1=O))
        assert not out.passed and "居民代表" in out.reasons[0]


class TestConsensus:
    def test_all_agree_passes(self):
        out = r.decide(Rule.CONSENSUS, S211, votes_of(C1=A, C2=A, A1=A, P1=A))
        assert out.passed and out.reasons[0].startswith("三方一致")

    def test_one_oppose_fails(self):
        out = r.decide(Rule.CONSENSUS, S311, votes_of(C1=A, C2=A, C3=A, A1=A, P1=O))
        assert not out.passed and out.reasons == ["物业有1票反对。"]

    def test_one_abstention_blocks(self):
        out = r.decide(Rule.CONSENSUS, S311, votes_of(C1=A, C2=A, C3=X, A1=A, P1=A))
        assert not out.passed and "弃权" in out.reasons[0]

    def test_absent_seat_does_not_block(self):
        assert passed(Rule.CONSENSUS, S311, votes_of(C1=A, A1=A, P1=A))

    def test_resident_seat_counts_as_a_body(self):
        seats = make_seats(1, 1, 1, 1)
        assert passed(Rule.CONSENSUS, seats, votes_of(C1=A, A1=A, P1=A, R1=A))
        assert not passed(Rule.CONSENSUS, seats, votes_of(C1=A, A1=A, P1=A))
        assert not passed(Rule.CONSENSUS, seats, votes_of(C1=A, A1=A, P1=A, R1=X))

    def test_all_failures_are_listed(self):
        out = r.decide(Rule.CONSENSUS, S311, votes_of(C1=O, C2=X, C3=A, A1=A))
        assert not out.passed
        assert out.reasons == ["居委会有1票反对。", "居委会有1票弃权，一致须全部同意。",
                               "物业没有席位参加表决，无法形成三方一致。"]


@pytest.mark.parametrize("rule,expected", [
    (Rule.CONSENSUS, False),
    (Rule.MAJORITY_EACH, False),
    (Rule.MAJORITY_ALL, True),
    (Rule.TWO_THIRDS_ALL, True),
])
def test_a_body_with_all_seats_absent(rule, expected):
    # 物业 stays away; the other three seats all agree (3 of 4 voted: quorum met)
    out = r.decide(rule, S211, votes_of(C1=A, C2=A, A1=A))
    assert out.passed is expected
    assert out.per_body[Body.PROPERTY] == Tally(1, 0, 0, 0)
    assert out.per_body[Body.PROPERTY].absent == 1
    if not expected:
        assert any("物业没有席位参加表决" in s for s in out.reasons)


class TestQuorum:
    @pytest.mark.parametrize("rule", list(Rule))
    def test_exactly_half_is_a_quorum(self, rule):
        # 4 seats, 2 vote: exactly half — quorum met. Rules still apply.
        out = r.decide(rule, S211, votes_of(C1=A, A1=A))
        assert out.quorum_met
        assert out.passed is (rule in (Rule.MAJORITY_ALL, Rule.TWO_THIRDS_ALL))

    @pytest.mark.parametrize("rule", list(Rule))
    def test_below_half_nothing_passes(self, rule):
        # 5 seats, 2 vote: 2 * 2 < 5
        out = r.decide(rule, S311, votes_of(A1=A, P1=A))
        assert not out.quorum_met and not out.passed
        assert "法定人数" in out.reasons[0]

    def test_quorum_failure_blocks_even_a_unanimous_vote(self):
        seats = make_seats(5, 1, 1)  # 7 seats
        out = r.decide(Rule.CONSENSUS, seats, votes_of(C1=A, A1=A, P1=A))  # 3 of 7
        assert not out.passed and not out.quorum_met
        out = r.decide(Rule.CONSENSUS, seats, votes_of(C1=A, C2=A, A1=A, P1=A))  # 4 of 7
        assert out.passed

    def test_custom_quorum(self):
        votes = votes_of(C1=A, C2=A, A1=A)  # 3 of 6
        assert not passed(Rule.MAJORITY_ALL, S222, votes, quorum=Fraction(2, 3))
        votes["A2"] = A  # 4 of 6: exactly two thirds
        assert passed(Rule.MAJORITY_ALL, S222, votes, quorum=Fraction(2, 3))
        assert passed(Rule.MAJORITY_ALL, S222, votes, quorum="2/3")

    def test_zero_quorum_still_needs_a_vote(self):
        for rule in Rule:
            out = r.decide(rule, S211, {}, quorum=0)
            assert not out.passed and out.reasons[0] == "没有任何席位参加表决。"
        assert passed(Rule.MAJORITY_ALL, S311, votes_of(C1=A), quorum=0)

    @pytest.mark.parametrize("bad", [Fraction(-1, 2), Fraction(3, 2), 2, "half", None])
    def test_bad_quorum(self, bad):
        with pytest.raises(ValueError):
            r.decide(Rule.MAJORITY_ALL, S211, {}, quorum=bad)


class TestChoose:
    seats = make_seats(1, 1, 1)

    def test_single_option(self):
        assert r.choose(Rule.CONSENSUS, self.seats, {"p": votes_of(C1=A, A1=A, P1=A)}) == "p"
        assert r.choose(Rule.CONSENSUS, self.seats, {"p": votes_of(C1=A, A1=A, P1=X)}) is None

    def test_no_options(self):
        assert r.choose(Rule.CONSENSUS, self.seats, {}) is None

    def test_most_agree_votes_wins(self):
        options = {
            "repair": votes_of(C1=A, A1=A, P1=A),
            "维持现状": votes_of(C1=A, A1=A, P1=O),
        }
        assert r.choose(Rule.TWO_THIRDS_ALL, self.seats, options) == "repair"

    def test_tie_between_passing_options_adopts_none(self):
        options = {
            "repair": votes_of(C1=A, A1=A, P1=O),
            "维持现状": votes_of(C1=A, A1=O, P1=A),
        }
        assert r.choose(Rule.TWO_THIRDS_ALL, self.seats, options) is None

    def test_tie_below_the_winner_does_not_matter(self):
        seats = make_seats(2, 1, 1)
        options = {
            "a": votes_of(C1=A, C2=A, A1=A, P1=A),
            "b": votes_of(C1=A, C2=A, A1=A, P1=O),
            "c": votes_of(C1=A, C2=O, A1=A, P1=A),
        }
        assert r.choose(Rule.MAJORITY_ALL, seats, options) == "a"

    def test_failing_option_with_more_agrees_does_not_count(self):
        seats = make_seats(2, 1, 1)
        options = {
            # 3 agree but the property seat opposes: fails consensus
            "a": votes_of(C1=A, C2=A, A1=A, P1=O),
            # 3 agree, C2 absent: passes consensus
            "b": votes_of(C1=A, A1=A, P1=A),
        }
        assert r.choose(Rule.CONSENSUS, seats, options) == "b"

    def test_do_nothing_is_just_another_option(self):
        options = {"repair": votes_of(C1=O, A1=A, P1=A), "维持现状": votes_of(C1=A, A1=A, P1=A)}
        assert r.choose(Rule.CONSENSUS, self.seats, options) == "维持现状"

    def test_seats_may_be_a_one_shot_iterator(self):
        options = {"x": votes_of(C1=O, A1=A, P1=A), "y": votes_of(C1=A, A1=A, P1=A)}
        assert r.choose(Rule.CONSENSUS, iter(self.seats), options) == "y"

    def test_validation_applies_to_every_option(self):
        with pytest.raises(ValueError):
            r.choose(Rule.CONSENSUS, self.seats, {"x": {"C1": A}, "y": {"nobody": A}})


# --------------------------------------------------------------------------- validation

class TestValidation:
    def test_vote_from_unknown_seat(self):
        with pytest.raises(ValueError, match="not in the round"):
            r.decide(Rule.CONSENSUS, make_seats(1, 1, 1), {"C1": A, "Z9": A})

    def test_duplicate_seat_ids(self):
        seats = make_seats(1, 1, 1) + [("C1", Body.RESIDENT)]
        with pytest.raises(ValueError, match="duplicate"):
            r.decide(Rule.CONSENSUS, seats, {})

    @pytest.mark.parametrize("missing", list(r.REQUIRED_BODIES))
    def test_every_one_of_the_three_bodies_must_hold_a_seat(self, missing):
        seats = [s for s in make_seats(1, 1, 1, 1) if s[1] is not missing]
        with pytest.raises(ValueError, match="missing"):
            r.decide(Rule.MAJORITY_ALL, seats, {})

    def test_empty_round(self):
        with pytest.raises(ValueError):
            r.decide(Rule.MAJORITY_ALL, [], {})

    def test_bad_vote_body_and_rule(self):
        seats = make_seats(1, 1, 1)
        with pytest.raises(ValueError):
            r.decide(Rule.CONSENSUS, seats, {"C1": "yes"})
        with pytest.raises(ValueError):
            r.decide(Rule.CONSENSUS, seats + [("X1", "street_office")], {})
        with pytest.raises(ValueError):
            r.decide("unanimity", seats, {})

    def test_plain_strings_and_seat_objects_are_accepted(self):
        seats = [Seat(1, Body.COMMITTEE), ("2", "association"), (3, "property")]
        out = r.decide("consensus", seats, {1: "agree", "2": "agree", 3: "agree"})
        assert out.passed and out.rule is Rule.CONSENSUS
        assert out.totals == Tally(3, 3, 0, 0)


# --------------------------------------------------------------------------- describe

@pytest.mark.parametrize("rule", list(Rule))
def test_describe_is_a_chinese_sentence_for_every_rule(rule):
    text = r.describe(rule)
    assert text and CJK.search(text)
    assert text.startswith(rule.label + "：")
    assert "一半" in text  # the default quorum is stated
    assert r.describe(rule.value) == text


def test_describe_states_ties_and_bounds():
    assert "弃权" in r.describe(Rule.CONSENSUS) and "反对" in r.describe(Rule.CONSENSUS)
    for rule in (Rule.MAJORITY_EACH, Rule.MAJORITY_ALL):
        assert "超过" in r.describe(rule) and "平票" in r.describe(rule)
    assert "含恰好三分之二" in r.describe(Rule.TWO_THIRDS_ALL)
    assert len({r.describe(rule) for rule in Rule}) == len(Rule)


def test_describe_other_quorums():
    assert "三分之二" in r.describe(Rule.CONSENSUS, quorum=Fraction(2, 3)).split("。")[-3]
    assert "不设法定人数" in r.describe(Rule.CONSENSUS, quorum=0)
    assert "全部表决席位都须参加表决" in r.describe(Rule.CONSENSUS, quorum=1)


def test_default_rule_is_consensus():
    assert r.DEFAULT_RULE is Rule.CONSENSUS


# --------------------------------------------------------------------------- purity

def test_module_is_pure():
    path = Path(r.__file__)
    source = path.read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from|import)\s+(flask|sqlalchemy)", source, re.MULTILINE | re.IGNORECASE)
    assert "float(" not in source
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('rules', {str(path)!r})\n"
        "m = importlib.util.module_from_spec(spec); sys.modules['rules'] = m\n"
        "spec.loader.exec_module(m)\n"
        "bad = [n for n in sys.modules if n.split('.')[0] in ('flask', 'sqlalchemy', 'civic')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("rule", list(Rule))
@pytest.mark.parametrize("quorum", ["0", "1/2", "2/3", "1"])
def test_rule_texts_and_reasons_are_in_the_readers_language(app, rule, quorum):
    """Inside a request the app installs its gettext as the module's `translate`: the rule's
    description and every reason read in English for an English reader, in Chinese for a
    Chinese one (outside a request, the Chinese source text)."""
    from flask_babel import force_locale
    seats = [("r1", "committee"), ("o1", "association"), ("p1", "property")]
    ballots = [{}, {"r1": "agree", "o1": "agree", "p1": "agree"},
               {"r1": "agree", "o1": "oppose", "p1": "abstain"}, {"r1": "agree"}]
    with app.test_request_context("/"):
        with force_locale("en"):
            text = r.describe(rule, quorum=quorum)
            reasons = [x for votes in ballots
                       for x in r.decide(rule, seats, votes, quorum=quorum).reasons]
        assert not CJK.search(text) and "option passes" in text, text
        assert reasons and not any(CJK.search(x) for x in reasons), reasons
        with force_locale("zh_CN"):
            assert r.describe(rule, quorum=quorum) == _source_describe(rule, quorum)
    assert r.describe(rule, quorum=quorum) == _source_describe(rule, quorum)


def _source_describe(rule, quorum):
    saved, r.translate = r.translate, r.N_
    try:
        return r.describe(rule, quorum=quorum)
    finally:
        r.translate = saved
