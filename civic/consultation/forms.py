"""Forms of the consultation pages. Labels are Chinese msgids, translated lazily.

The choices below only shape the page: every value is checked again by the operations,
which answer with the Chinese message shown at the field (so choice fields do not
validate their choices here).
"""
from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import LazyString, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from civic.forms import Form
from wtforms import (BooleanField, DateTimeLocalField, HiddenField, RadioField, SelectChoice,
                     SelectField, StringField, TextAreaField)
from wtforms.validators import DataRequired, Length, ValidationError

from civic import clock
from civic.accounts.forms import REQUIRED
from civic.ballots.art278 import Item
from civic.money import parse_yuan

RULES = [
    SelectChoice("consensus", _l("三方一致（默认）")),
    SelectChoice("majority_each", _l("各方分别过半数")),
    SelectChoice("majority_all", _l("全体席位过半数")),
    SelectChoice("two_thirds_all", _l("全体席位三分之二")),
]
QUORUMS = [
    SelectChoice("1/2", _l("全部表决席位的一半（默认）")),
    SelectChoice("2/3", _l("全部表决席位的三分之二")),
    SelectChoice("1", _l("全部表决席位")),
    SelectChoice("0", _l("不设法定人数（至少一个席位参加表决）")),
]
FUNDING = [
    SelectChoice("", _l("请选择")),
    SelectChoice("maintenance_fund", _l("专项维修资金")),
    SelectChoice("public_income", _l("公共收益")),
    SelectChoice("autonomy_fund", _l("自治金")),
    SelectChoice("service_fee", _l("物业服务费")),
    SelectChoice("government", _l("政府拨款")),
    SelectChoice("other", _l("其他")),
]
EXECUTORS = [
    SelectChoice("", _l("请选择")),
    SelectChoice("committee", _l("居委会")),
    SelectChoice("association", _l("业委会")),
    SelectChoice("property", _l("物业")),
]
CN_NUMERALS = {1: "一", 2: "二", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 9: "九"}


def item_numeral(n: int) -> str:
    """五 in Chinese (as the Code numbers its items), 5 in other languages."""
    return CN_NUMERALS[n] if str(get_locale() or "zh").startswith("zh") else str(n)


def _item_label(item) -> str:
    return _("第%(n)s项：%(label)s", n=item_numeral(item.value), label=item.label)


#: the Civil Code's own wording of each Art. 278 item (law text, shown as written)
OWNERS_ITEMS = [SelectChoice("", _l("否：不属于业主共同决定的事项"))] + [
    SelectChoice(str(item.value), LazyString(_item_label, item)) for item in Item]
VOTES = [SelectChoice("agree", _l("同意")), SelectChoice("oppose", _l("反对")),
         SelectChoice("abstain", _l("弃权"))]
ANSWERS = [SelectChoice("confirm", _l("确认这一版会议纪要")),
           SelectChoice("object", _l("提出异议（须写明意见）"))]

#: <input type="datetime-local"> sends minutes; older browsers may add seconds or a space
_LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def local_datetime(label, **kwargs) -> DateTimeLocalField:
    """A datetime-local input read as Asia/Shanghai wall-clock time (see `utc`)."""
    return DateTimeLocalField(label, format=_LOCAL_FORMATS, tz=clock.LOCAL_TZ,
                              invalid_value_message=_l("请填写完整的日期和时间。"), **kwargs)


def utc(value: datetime | None) -> datetime | None:
    """An aware datetime from a `local_datetime` field, in UTC as the database keeps it."""
    return value.astimezone(UTC) if value is not None and value.tzinfo is not None else value


def _yuan(form, field) -> None:
    try:
        field.fen = parse_yuan(field.data)
    except ValueError:
        field.fen = None
        raise ValidationError(_l("请按元填写金额，例如 12500 或 12,500.50（最多两位小数）。")) \
            from None


class _NoticeFields(Form):
    agenda = TextAreaField(_l("议程"), validators=[DataRequired(REQUIRED), Length(max=5000)],
                           description=_l("本轮要讨论和表决的问题。"))
    place = StringField(_l("会议地点"), validators=[Length(max=80)],
                        description=_l("例如：居委会二楼会议室"))
    online = BooleanField(_l("线上会议"))
    guests = TextAreaField(_l("列席单位（每行一个，可选）"), validators=[Length(max=800)],
                           description=_l("受邀列席的外部单位，如街道城管中队；列席单位没有表决权。"))


class ScheduleForm(_NoticeFields):
    starts_at = local_datetime(_l("会议开始时间"))
    closes_at = local_datetime(_l("表决截止时间"))
    rule = RadioField(_l("表决规则"), choices=RULES, default="consensus", validate_choice=False)
    quorum = SelectField(_l("法定人数"), choices=QUORUMS, default="1/2", validate_choice=False)


class NoticeForm(_NoticeFields):
    pass


class StaffSeatForm(Form):
    user_id = SelectField(_l("工作人员"), choices=[], validate_choice=False)
    title = StringField(_l("公开职务（可选）"), validators=[Length(max=40)],
                        description=_l("不填则使用其在本小区登记的职务。"))


class ResidentSeatForm(Form):
    phone = StringField(_l("居民代表的手机号"), validators=[DataRequired(REQUIRED), Length(max=20)],
                        render_kw={"inputmode": "tel", "autocomplete": "off"},
                        description=_l("须是本小区已认证的居民。手机号只用于查找，不会公开。"))
    title = StringField(_l("公开职务（可选）"), validators=[Length(max=40)],
                        description=_l("例如：5号楼居民代表"))


class OptionForm(Form):
    title = StringField(_l("方案名称"), validators=[DataRequired(REQUIRED), Length(max=80)])
    description = TextAreaField(_l("方案说明"), validators=[Length(max=5000)])
    cost = StringField(_l("预计费用（元）"), validators=[DataRequired(REQUIRED), _yuan],
                       render_kw={"inputmode": "decimal"},
                       description=_l("没有费用请填 0。"))
    funding_source = SelectField(_l("资金来源"), choices=FUNDING, validate_choice=False)
    executor = SelectField(_l("实施方"), choices=EXECUTORS, validate_choice=False)
    owners_item = SelectField(_l("是否属于《民法典》第二百七十八条规定由业主共同决定的事项"),
                              choices=OWNERS_ITEMS, validate_choice=False,
                              description=_l("属于的，方案被采纳后须经业主表决才能成为决议。"))


class RuleForm(Form):
    rule = RadioField(_l("表决规则"), choices=RULES, validate_choice=False)
    quorum = SelectField(_l("法定人数"), choices=QUORUMS, validate_choice=False)


class DeadlineForm(Form):
    closes_at = local_datetime(_l("表决截止时间"))


class EscalateForm(Form):
    note = TextAreaField(_l("提请街道协调的原因（公开）"),
                         validators=[DataRequired(REQUIRED), Length(max=2000)])


class VoteForm(Form):
    vote = RadioField(_l("你的表决"), choices=VOTES, validate_choice=False)
    reason = TextAreaField(_l("理由（投反对票时必填，随表决结果公开）"),
                           validators=[Length(max=2000)])
    seat_id = HiddenField()


class StatementForm(Form):
    body = SelectField(_l("以哪一方的名义"), choices=[], validate_choice=False)
    text = TextAreaField(_l("立场陈述"), validators=[DataRequired(REQUIRED), Length(max=5000)],
                         description=_l("每一方一份，本轮结束前可以修改，每一版都有记录。"))


class OpinionForm(Form):
    text = TextAreaField(_l("发表意见"), validators=[DataRequired(_l("请写下你的意见。")),
                                                 Length(max=2000)])
    idempotency_key = HiddenField()


class MinutesForm(Form):
    text = TextAreaField(_l("会议纪要"), validators=[DataRequired(REQUIRED), Length(max=20000)],
                         description=_l("可以用 Markdown。提交后由参会各方确认；修改会生成新的版本，各方须重新确认。"))


class ConfirmForm(Form):
    answer = RadioField(_l("你方的答复"), choices=ANSWERS, validate_choice=False)
    note = TextAreaField(_l("意见（提出异议时必填）"), validators=[Length(max=2000)])
