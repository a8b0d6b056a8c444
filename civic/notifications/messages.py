"""The sentence for each notification kind, rendered from its params in the current language."""
from __future__ import annotations

from flask_babel import gettext as _

from civic.i18n import N_


def _texts() -> dict[str, str]:
    return {
        "issue.threshold": _("议题 #%(number)s「%(title)s」联署已达标，请在受理时限内处理。"),
        "issue.milestone": _("你提出的议题 #%(number)s「%(title)s」联署进度已达 %(percent)s%%。"),
        "issue.expired": _("议题 #%(number)s「%(title)s」征集期结束，未达到联署门槛。"),
        "issue.accepted": _("议题 #%(number)s「%(title)s」已受理，由%(lead)s牵头办理。"),
        "issue.declined": _("议题 #%(number)s「%(title)s」未被受理，可查看说明。"),
        "issue.merged": _("议题 #%(number)s「%(title)s」已并入议题 #%(target)s。"),
        "issue.referred": _("议题 #%(number)s「%(title)s」已转交%(office)s办理。"),
        "issue.response": _("%(body)s已答复议题 #%(number)s「%(title)s」。"),
        "clock.due_soon": _("议题 #%(number)s「%(title)s」的%(what)s时限还剩 %(hours)s 小时。"),
        "clock.overdue": _("议题 #%(number)s「%(title)s」已超过%(what)s时限。"),
        "content.hidden": _("你发布的%(what)s已被隐藏，原因：%(reason)s"),
        "content.restored": _("你发布的%(what)s已恢复显示。"),
        "content.auto_hidden": _("一条%(what)s被三户居民举报，已暂时隐藏，请复核。"),
        "round.opened": _("议题 #%(number)s「%(title)s」第 %(round)s 轮协商已开始表决，请投票。"),
        "round.closing": _("议题 #%(number)s「%(title)s」第 %(round)s 轮协商将在 24 小时内截止表决。"),
        "round.closed": _("议题 #%(number)s「%(title)s」第 %(round)s 轮协商表决已结束，可查看结果。"),
        "minutes.confirm": _("议题 #%(number)s「%(title)s」第 %(round)s 轮会议纪要待你方确认。"),
        "consultation.escalated": _("议题 #%(number)s「%(title)s」协商未能形成决定，已提请街道协调。"),
        "decision.published": _("议题 #%(number)s「%(title)s」的决议已公布，公示期内可提出异议。"),
        "decision.effective": _("议题 #%(number)s「%(title)s」的决议公示期满，已生效。"),
        "objection.filed": _("议题 #%(number)s「%(title)s」的决议收到一条异议，请答复。"),
        "objection.answered": _("你对议题 #%(number)s「%(title)s」决议提出的异议已获答复。"),
        "ballot.opened": _("业主表决 #%(number)s「%(title)s」已开始，请在截止前投票。"),
        "ballot.extended": _("业主表决 #%(number)s「%(title)s」的表决期已延长。"),
        "ballot.provisional": _("业主表决 #%(number)s「%(title)s」计票结果已公示，异议期内可提出异议。"),
        "ballot.final": _("业主表决 #%(number)s「%(title)s」结果已确定。"),
        "ballot.objection_answered": _("你对业主表决 #%(number)s「%(title)s」提出的异议已获答复。"),
        "expense.review": _("议题 #%(number)s「%(title)s」登记了一笔 %(amount)s 元的专项维修资金支出，请业委会审核。"),
        "issue.completed": _("议题 #%(number)s「%(title)s」已办结，请查看实施情况并评价。"),
        "issue.review": _("议题 #%(number)s「%(title)s」评价期结束，%(total)s 户中有 %(unsatisfied)s 户不满意，已转入回头看，请组织复查。"),
        "membership.suspended": _("你在%(community)s的成员身份已被暂停。"),
    }


#: params stored as codes (or Chinese msgids) and translated when the sentence is shown
LABELS = {
    "triage": N_("受理"), "response": N_("答复"), "受理": N_("受理"), "答复": N_("答复"),
    "committee": N_("居委会"), "association": N_("业委会"), "property": N_("物业"),
    "居委会": N_("居委会"), "业委会": N_("业委会"), "物业": N_("物业"),
    "issue": N_("议题"), "comment": N_("意见"), "议题": N_("议题"), "意见": N_("意见"),
}
LABELLED = ("what", "lead", "body")


def sentence(kind: str, params: dict) -> str:
    """The event's sentence in the current language, as plain text (never Markup): callers
    render it autoescaped. Unknown kinds and missing params fall back to the kind."""
    template = _texts().get(kind)
    if template is None:
        return kind
    params = {k: (_(LABELS[v]) if k in LABELLED and isinstance(v, str) and v in LABELS else v)
              for k, v in params.items()}
    try:
        return template % params
    except (KeyError, TypeError, ValueError):
        return kind
