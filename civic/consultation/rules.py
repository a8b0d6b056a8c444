"""Decision rules of a consultation round (协商议事, DESIGN.md §4) — pure arithmetic.

No Flask, no database: the round's seats and one option's votes go in, an
:class:`Outcome` comes out. All arithmetic is on integers (cross-multiplied), never floats.

Vocabulary
==========

* **Seat** — ``(seat_id, body)``. Bodies are 居委会 (``committee``), 业委会
  (``association``), 物业 (``property``) and, when the round has them, 居民代表
  (``resident``). Invited outside offices attend without a vote and are simply *not* seats.
  A round must hold at least one seat of each of the three bodies (committee, association,
  property); resident seats are optional. Seat ids must be unique.
* **Ballot** — for one option, a mapping ``seat_id -> Vote`` (同意 / 反对 / 弃权). A seat
  missing from the mapping is **absent** (未参加表决). A vote from a seat that is not in the
  round is a :class:`ValueError`.
* **Voted** — seats that cast 同意, 反对 or 弃权. **Abstentions count as voted**: they are in
  every denominator. Absent seats are in no denominator (except the quorum's, see below).
* **Bodies that must take part** — the three bodies, plus 居民代表 when the round has
  resident seats ("resident seats count as a body too when present").

Quorum (法定人数), applied under every rule
=========================================

Nothing passes unless the seats that voted are **at least** ``quorum`` of *all* seats of the
round: ``voted * q.denominator >= q.numerator * seats``. The default is one half, so 2 of 4
seats is a quorum and 2 of 5 is not. ``quorum`` is a parameter (a :class:`~fractions.Fraction`
between 0 and 1); ``0`` disables the quorum, but at least one seat must still have voted.

The rules (frozen when the round opens)
=======================================

``CONSENSUS`` — 三方一致 (the default)
    Every body that must take part has **at least one seat that voted**, and **every** seat
    that voted (in any body) voted 同意. A single 反对 *or* 弃权 anywhere fails — consensus
    means all agree, so an abstention blocks. Absent seats do not block, as long as each
    body is represented by at least one vote; a body whose seats are all absent fails.

``MAJORITY_EACH`` — 各方分别过半数
    In **each** body that must take part, 同意 is **strictly more than half** of that body's
    seats that voted: ``2 * agree_b > voted_b``. An exact tie fails (1 of 2 fails; 2 of 3
    passes). Abstentions count in the body's denominator. A body whose seats are all absent
    fails (it shows no majority).

``MAJORITY_ALL`` — 全体席位过半数
    同意 is **strictly more than half** of all seats that voted: ``2 * agree > voted``. An
    exact tie fails. Abstentions count in the denominator. Bodies are not counted separately.

``TWO_THIRDS_ALL`` — 全体席位三分之二
    同意 is **at least two thirds** (inclusive) of all seats that voted:
    ``3 * agree >= 2 * voted``. Exactly two thirds passes (2 of 3, 4 of 6); one vote less
    fails (3 of 5). Abstentions count in the denominator.

Choosing among options
======================

:func:`choose` decides every option of the round under the same rule. If no option passes,
none is adopted. If exactly one passes, it is adopted. If several pass, the one with the
**most 同意 votes** is adopted; if the largest 同意 count is shared by two or more passing
options, **none** is adopted and the moderator opens another round. "Do nothing" (维持现状)
is just another option and competes on the same terms.
"""
from __future__ import annotations

import enum
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction


def N_(message: str) -> str:
    """Marks a label for extraction (the identity)."""
    return message


#: how labels are shown: the identity here; the app installs its gettext (civic.i18n)
translate = N_


__all__ = [
    "DEFAULT_QUORUM",
    "DEFAULT_RULE",
    "REQUIRED_BODIES",
    "Body",
    "Outcome",
    "Rule",
    "Seat",
    "Tally",
    "Vote",
    "choose",
    "decide",
    "describe",
]


class Body(str, enum.Enum):
    COMMITTEE = "committee"      # 居委会
    ASSOCIATION = "association"  # 业委会
    PROPERTY = "property"        # 物业
    RESIDENT = "resident"        # 居民代表

    @property
    def label(self) -> str:
        return translate(_BODY_LABELS[self])


class Vote(str, enum.Enum):
    AGREE = "agree"      # 同意
    OPPOSE = "oppose"    # 反对
    ABSTAIN = "abstain"  # 弃权

    @property
    def label(self) -> str:
        return translate(_VOTE_LABELS[self])


class Rule(str, enum.Enum):
    CONSENSUS = "consensus"
    MAJORITY_EACH = "majority_each"
    MAJORITY_ALL = "majority_all"
    TWO_THIRDS_ALL = "two_thirds_all"

    @property
    def label(self) -> str:
        return translate(_RULE_LABELS[self])


_BODY_LABELS = {
    Body.COMMITTEE: N_("居委会"),
    Body.ASSOCIATION: N_("业委会"),
    Body.PROPERTY: N_("物业"),
    Body.RESIDENT: N_("居民代表"),
}
_VOTE_LABELS = {Vote.AGREE: N_("同意"), Vote.OPPOSE: N_("反对"), Vote.ABSTAIN: N_("弃权")}
_RULE_LABELS = {
    Rule.CONSENSUS: N_("三方一致"),
    Rule.MAJORITY_EACH: N_("各方分别过半数"),
    Rule.MAJORITY_ALL: N_("全体席位过半数"),
    Rule.TWO_THIRDS_ALL: N_("全体席位三分之二"),
}

#: The three bodies every round must seat.
REQUIRED_BODIES: tuple[Body, ...] = (Body.COMMITTEE, Body.ASSOCIATION, Body.PROPERTY)

#: The rule a round gets unless the moderator picks another when opening it.
DEFAULT_RULE = Rule.CONSENSUS

#: Default quorum: at least half of all seats must vote.
DEFAULT_QUORUM = Fraction(1, 2)


@dataclass(frozen=True)
class Seat:
    seat_id: Hashable
    body: Body


@dataclass(frozen=True)
class Tally:
    """Counts for one body, or for the whole round."""

    seats: int = 0
    agree: int = 0
    oppose: int = 0
    abstain: int = 0

    @property
    def voted(self) -> int:
        return self.agree + self.oppose + self.abstain

    @property
    def absent(self) -> int:
        return self.seats - self.voted

    def _add(self, vote: Vote | None) -> Tally:
        return Tally(
            self.seats + 1,
            self.agree + (vote is Vote.AGREE),
            self.oppose + (vote is Vote.OPPOSE),
            self.abstain + (vote is Vote.ABSTAIN),
        )


@dataclass(frozen=True)
class Outcome:
    """The result of one option under one rule.

    ``reasons`` are Chinese sentences for residents: when the option failed, every condition
    that failed (quorum first); when it passed, why it passed.
    """

    passed: bool
    reasons: list[str]
    per_body: dict[Body, Tally]
    totals: Tally
    rule: Rule
    quorum_met: bool = field(default=True)


# --------------------------------------------------------------------------- helpers

def _coerce_rule(rule) -> Rule:
    try:
        return Rule(rule)
    except ValueError:
        raise ValueError(f"unknown decision rule: {rule!r}") from None


def _coerce_quorum(quorum) -> Fraction:
    try:
        q = Fraction(quorum)
    except (TypeError, ValueError):
        raise ValueError(f"quorum must be a fraction between 0 and 1: {quorum!r}") from None
    if not 0 <= q <= 1:
        raise ValueError(f"quorum must be between 0 and 1: {quorum!r}")
    return q


def _normalise_seats(seats: Iterable) -> list[Seat]:
    out: list[Seat] = []
    seen: set = set()
    for s in seats:
        if isinstance(s, Seat):
            seat_id, body = s.seat_id, s.body
        else:
            seat_id, body = s
        try:
            body = Body(body)
        except ValueError:
            raise ValueError(f"unknown body {body!r} for seat {seat_id!r}") from None
        if seat_id in seen:
            raise ValueError(f"duplicate seat id: {seat_id!r}")
        seen.add(seat_id)
        out.append(Seat(seat_id, body))
    present = {s.body for s in out}
    missing = [b for b in REQUIRED_BODIES if b not in present]
    if missing:
        raise ValueError("a round must seat every body; missing: "
                         + ", ".join(b.value for b in missing))
    return out


def _normalise_votes(seat_ids: set, votes: Mapping) -> dict:
    out = {}
    for seat_id, vote in votes.items():
        if seat_id not in seat_ids:
            raise ValueError(f"vote from a seat that is not in the round: {seat_id!r}")
        try:
            out[seat_id] = Vote(vote)
        except ValueError:
            raise ValueError(f"invalid vote {vote!r} from seat {seat_id!r}") from None
    return out


def _t(message: str, **params) -> str:
    """`message` (marked with N_) in the reader's language, its %(name)s params filled in."""
    text = translate(message)
    return text % params if params else text


#: the quorums below 1 a moderator can choose (civic.consultation.forms.QUORUMS), in words
_FRACTIONS = {Fraction(1, 2): N_("一半"), Fraction(2, 3): N_("三分之二")}


def _fraction_text(q: Fraction) -> str:
    known = _FRACTIONS.get(q)
    return translate(known) if known else f"{q.numerator}/{q.denominator}"


def _tie(tie: bool) -> str:
    return _t(N_("（恰好一半，平票不通过）")) if tie else ""


# --------------------------------------------------------------------------- decide

def decide(rule: Rule | str, seats: Iterable, votes: Mapping,
           *, quorum: Fraction | int | str = DEFAULT_QUORUM) -> Outcome:
    """Decide one option. ``seats`` is an iterable of ``(seat_id, body)`` (or :class:`Seat`),
    ``votes`` maps ``seat_id -> Vote`` for the seats that voted. See the module docstring."""
    rule = _coerce_rule(rule)
    q = _coerce_quorum(quorum)
    seat_list = _normalise_seats(seats)
    ballot = _normalise_votes({s.seat_id for s in seat_list}, votes)

    per_body: dict[Body, Tally] = {}
    for body in Body:  # enum order, only bodies that hold seats
        for s in seat_list:
            if s.body is body:
                per_body[body] = per_body.get(body, Tally())._add(ballot.get(s.seat_id))
    totals = Tally()
    for s in seat_list:
        totals = totals._add(ballot.get(s.seat_id))

    reasons: list[str] = []

    # quorum ------------------------------------------------------------------
    quorum_met = (totals.voted * q.denominator >= q.numerator * totals.seats
                  and totals.voted > 0)
    if not quorum_met:
        if totals.voted == 0:
            reasons.append(_t(N_("没有任何席位参加表决。")))
        elif q == 1:
            reasons.append(_t(
                N_("参加表决的席位%(voted)s个，全部表决席位%(seats)s个；法定人数要求全部席位"
                   "参加表决，任何方案均不通过。"), voted=totals.voted, seats=totals.seats))
        else:
            reasons.append(_t(
                N_("参加表决的席位%(voted)s个，全部表决席位%(seats)s个，"
                   "未达到全部席位的%(share)s（法定人数），任何方案均不通过。"),
                voted=totals.voted, seats=totals.seats, share=_fraction_text(q)))

    # the rule ----------------------------------------------------------------
    rule_reasons: list[str] = []
    if rule is Rule.CONSENSUS:
        for body, t in per_body.items():
            if t.voted == 0:
                rule_reasons.append(_t(N_("%(body)s没有席位参加表决，无法形成三方一致。"),
                                       body=body.label))
            if t.oppose:
                rule_reasons.append(_t(N_("%(body)s有%(n)s票反对。"), body=body.label,
                                       n=t.oppose))
            if t.abstain:
                rule_reasons.append(_t(N_("%(body)s有%(n)s票弃权，一致须全部同意。"),
                                       body=body.label, n=t.abstain))
        pass_reason = _t(N_("参加表决的各方席位全部投同意票，达成一致。"))
    elif rule is Rule.MAJORITY_EACH:
        for body, t in per_body.items():
            if t.voted == 0:
                rule_reasons.append(_t(N_("%(body)s没有席位参加表决，未能过半数。"),
                                       body=body.label))
            elif not 2 * t.agree > t.voted:
                rule_reasons.append(_t(
                    N_("%(body)s同意%(agree)s票，参加表决%(voted)s票，未超过半数%(tie)s。"),
                    body=body.label, agree=t.agree, voted=t.voted,
                    tie=_tie(2 * t.agree == t.voted)))
        pass_reason = _t(N_("每一方的同意票均超过该方参加表决席位的半数。"))
    elif rule is Rule.MAJORITY_ALL:
        if not 2 * totals.agree > totals.voted or totals.voted == 0:
            rule_reasons.append(_t(
                N_("同意%(agree)s票，参加表决%(voted)s票，未超过半数%(tie)s。"),
                agree=totals.agree, voted=totals.voted,
                tie=_tie(2 * totals.agree == totals.voted)))
        pass_reason = _t(N_("同意%(agree)s票，超过参加表决%(voted)s票的半数。"),
                         agree=totals.agree, voted=totals.voted)
    else:  # Rule.TWO_THIRDS_ALL
        if not 3 * totals.agree >= 2 * totals.voted or totals.voted == 0:
            rule_reasons.append(_t(N_("同意%(agree)s票，参加表决%(voted)s票，未达到三分之二。"),
                                   agree=totals.agree, voted=totals.voted))
        pass_reason = _t(N_("同意%(agree)s票，达到参加表决%(voted)s票的三分之二。"),
                         agree=totals.agree, voted=totals.voted)

    passed = quorum_met and not rule_reasons
    reasons.extend(rule_reasons)
    if passed:
        reasons = [_t(N_("%(rule)s：%(reason)s"), rule=rule.label, reason=pass_reason)]
    return Outcome(passed=passed, reasons=reasons, per_body=per_body, totals=totals,
                   rule=rule, quorum_met=quorum_met)


# --------------------------------------------------------------------------- choose

def choose(rule: Rule | str, seats: Iterable, ballots_by_option: Mapping[Hashable, Mapping],
           *, quorum: Fraction | int | str = DEFAULT_QUORUM) -> Hashable | None:
    """The option adopted by the round, or ``None``.

    Among the options that pass, the one with the most 同意 votes is adopted; a tie for the
    most 同意 votes adopts none (the moderator opens another round). No passing option also
    adopts none.
    """
    seat_list = list(seats)
    best: list = []
    best_agree = -1
    for option_id, votes in ballots_by_option.items():
        outcome = decide(rule, seat_list, votes, quorum=quorum)
        if not outcome.passed:
            continue
        if outcome.totals.agree > best_agree:
            best, best_agree = [option_id], outcome.totals.agree
        elif outcome.totals.agree == best_agree:
            best.append(option_id)
    return best[0] if len(best) == 1 else None


# --------------------------------------------------------------------------- describe

_DESCRIPTIONS = {
    Rule.CONSENSUS: N_(
        "三方一致：居委会、业委会、物业（设有居民代表席位时也包括居民代表）每一方都至少有一个席位"
        "参加表决，且参加表决的席位全部投同意票，方案通过；任何一方有人反对或弃权，"
        "或某一方没有席位参加表决，即不通过。未参加表决的席位不计入，也不阻止通过。"),
    Rule.MAJORITY_EACH: N_(
        "各方分别过半数：居委会、业委会、物业（设有居民代表席位时也包括居民代表）每一方的同意票"
        "都超过该方参加表决席位数的一半（弃权计入参加表决席位数），方案通过；任何一方同意票恰好"
        "一半（平票）或不足一半，或该方没有席位参加表决，即不通过。"),
    Rule.MAJORITY_ALL: N_(
        "全体席位过半数：同意票超过全体参加表决席位数的一半（弃权计入参加表决席位数，"
        "各方合并计算），方案通过；同意票恰好一半（平票）或不足一半即不通过。"),
    Rule.TWO_THIRDS_ALL: N_(
        "全体席位三分之二：同意票达到全体参加表决席位数的三分之二（含恰好三分之二；"
        "弃权计入参加表决席位数，各方合并计算），方案通过；不足三分之二即不通过。"),
}


def describe(rule: Rule | str, *, quorum: Fraction | int | str = DEFAULT_QUORUM) -> str:
    """The sentence shown to residents for ``rule`` (in their language), followed by the
    quorum sentence and how a choice between several passing options is made."""
    rule = _coerce_rule(rule)
    q = _coerce_quorum(quorum)
    if q == 0:
        quorum_text = _t(N_("不设法定人数，但至少须有一个席位参加表决。"))
    elif q == 1:
        quorum_text = _t(N_("全部表决席位都须参加表决，否则任何方案均不通过。"))
    else:
        quorum_text = _t(N_("参加表决的席位须达到全部表决席位的%(share)s（含恰好%(share)s），"
                            "否则任何方案均不通过。"), share=_fraction_text(q))
    choice_text = _t(N_("有多个方案通过时，采纳同意票最多的方案；同意票最多的方案不止一个时均不"
                        "采纳，由主持人另开一轮协商。"))
    return _t(_DESCRIPTIONS[rule]) + quorum_text + choice_text
