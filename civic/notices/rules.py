"""When there is a notice to print: the one answer used by the print views (404 otherwise)
and by the pages that link to them. Pure predicates on loaded objects."""
from __future__ import annotations

from civic.ballots.models import Ballot, BallotState
from civic.consultation.models import Round, RoundState
from civic.decisions.models import Decision, DecisionState
from civic.issues.models import Issue, IssueState
from civic.issues.operations import SIGNABLE


def public(issue: Issue) -> bool:
    """Seen by everyone: not a draft, not hidden by moderation."""
    return issue.state.is_public and issue.hidden_at is None


def decision(d: Decision, issue: Issue) -> bool:
    """决议公示: published and standing (in its publicity period or in effect)."""
    return public(issue) and d.state in (DecisionState.PUBLICITY, DecisionState.EFFECTIVE)


def ballot_result(b: Ballot) -> bool:
    """表决结果公告: once counted (provisional, then final)."""
    return b.state in (BallotState.PROVISIONAL, BallotState.FINAL)


def round_notice(rnd: Round, issue: Issue) -> bool:
    """协商议事公告: once the round's notice is out."""
    return public(issue) and rnd.state is not RoundState.DRAFT


def poster(issue: Issue, state: IssueState) -> bool:
    """联署征集: while households may co-sign (`state` as of now, see effective_state)."""
    return public(issue) and state in SIGNABLE
