"""Forms of the owners' ballot pages. Labels are Chinese msgids, translated lazily.

Choice fields do not validate their choices here: the operations check every value again
and answer with the Chinese message shown at the field.
"""
from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import LazyString, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from civic.forms import Form
from flask_wtf.file import FileField
from wtforms import (DateTimeLocalField, HiddenField, RadioField, SelectChoice, SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from civic import clock
from civic.accounts.forms import REQUIRED
from civic.ballots.art278 import Item

CN_NUMERALS = {1: "一", 2: "二", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 9: "九"}


def item_numeral(n: int) -> str:
    """五 in Chinese (as the Code numbers its items), 5 in other languages."""
    return CN_NUMERALS[n] if str(get_locale() or "zh").startswith("zh") else str(n)


def item_choice_label(item: Item) -> str:
    """"第五项：使用建筑物及其附属设施的维修资金（过半数同意）" — the Code's wording and its bound."""
    bound = _("四分之三以上同意") if item.needs_three_quarters else _("过半数同意")
    return _("第%(n)s项：%(label)s（%(bound)s）", n=item_numeral(item.value), label=item.label,
             bound=bound)


ITEMS = [SelectChoice("", _l("请选择"))] + [
    SelectChoice(str(item.value), LazyString(item_choice_label, item)) for item in Item]
CHOICES = [SelectChoice("yes", _l("同意")), SelectChoice("no", _l("反对")),
           SelectChoice("abstain", _l("弃权"))]
UNIT_REQUIRED = _l("请选择房号。")
SCOPES = [SelectChoice("all", _l("全小区")), SelectChoice("buildings", _l("选定的楼栋"))]

#: <input type="datetime-local"> sends minutes; some browsers add seconds or use a space
_LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class LocalDateTimeField(DateTimeLocalField):
    """A datetime-local input read as Asia/Shanghai wall-clock time; `data` is aware UTC.
    Shown again in Asia/Shanghai time."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format=_LOCAL_FORMATS,
                         invalid_value_message=_l("请填写完整的日期和时间。"), **kwargs)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None:
            self.data = to_utc(self.data)

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        if isinstance(self.data, datetime):
            value = clock.local(self.data) if self.data.tzinfo else self.data
            return value.strftime(_LOCAL_FORMATS[0])
        return ""


def to_utc(local_naive: datetime) -> datetime:
    """Asia/Shanghai wall-clock time (naive) → aware UTC; aware values are converted."""
    if local_naive.tzinfo is None:
        local_naive = local_naive.replace(tzinfo=clock.LOCAL_TZ)
    return local_naive.astimezone(UTC)


class ScheduleForm(Form):
    title = StringField(_l("表决事项名称"), validators=[DataRequired(REQUIRED), Length(max=120)],
                        description=_l("例如：3号楼加装电梯使用专项维修资金"))
    question = TextAreaField(_l("表决内容"), validators=[DataRequired(REQUIRED), Length(max=5000)],
                             description=_l("向业主提出的问题和方案全文：做什么、花多少钱、钱从哪里来、由谁实施。"))
    item = SelectField(_l("《民法典》第二百七十八条所列事项"), choices=ITEMS,
                       validate_choice=False)
    scope = RadioField(_l("表决范围"), choices=SCOPES, default="all", validate_choice=False)
    buildings = SelectMultipleField(_l("参加表决的楼栋"), choices=[], coerce=str,
                                    validate_choice=False, widget=ListWidget(prefix_label=False),
                                    option_widget=CheckboxInput())
    opens_at = LocalDateTimeField(_l("开始时间"),
                                  description=_l("北京时间。通知须至少提前公布规定的天数。"))
    closes_at = LocalDateTimeField(_l("截止时间"), description=_l("北京时间。"))
    decision = HiddenField()


class VoteForm(Form):
    choice = RadioField(_l("我的表决意见"), choices=CHOICES, validate_choice=False)
    person = HiddenField()


class PaperForm(Form):
    unit = SelectField(_l("房号"), choices=[], validate_choice=False, id="paper-unit",
                       validators=[DataRequired(UNIT_REQUIRED)],
                       description=_l("书面表决票上签字业主的任一房号；该业主名下范围内的所有房屋一并计入。"))
    choice = RadioField(_l("表决票上的意见"), choices=CHOICES, validate_choice=False)


class ProxyForm(Form):
    unit = SelectField(_l("委托业主的房号"), choices=[], validate_choice=False, id="proxy-unit",
                       validators=[DataRequired(UNIT_REQUIRED)])
    choice = RadioField(_l("受托人代为表决的意见"), choices=CHOICES, validate_choice=False)
    proxy_name = StringField(_l("受托人姓名"), validators=[DataRequired(REQUIRED), Length(max=40)],
                             description=_l("按授权委托书填写。只有居委会可以看到，不会公开。"))
    document = FileField(_l("签字的授权委托书照片"),
                         description=_l("JPEG、PNG 或 WEBP，不超过 10 MB。只有居委会可以查看。"),
                         render_kw={"accept": "image/jpeg,image/png,image/webp"})


class ExtendForm(Form):
    closes_at = LocalDateTimeField(_l("新的截止时间"), description=_l("北京时间。须晚于现在的截止时间。"),
                                   id="extend-closes_at")
    reason = TextAreaField(_l("延长理由（公开）"), validators=[DataRequired(REQUIRED), Length(max=2000)],
                           description=_l("例如：参与表决的面积尚未达到三分之二。"))


class ObjectionForm(Form):
    text = TextAreaField(_l("异议内容和理由（公开）"),
                         validators=[DataRequired(REQUIRED), Length(max=2000)],
                         id="objection-text")


class AnswerForm(Form):
    answer = TextAreaField(_l("公开答复"), validators=[DataRequired(REQUIRED), Length(max=2000)])
