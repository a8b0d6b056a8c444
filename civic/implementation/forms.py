"""Forms of the implementation pages: booking an expense, reversing it, the owners'
committee's review, progress updates, and a household's rating once the work is done.

Amounts are typed in yuan and parsed exactly into fen (:class:`YuanField`, as for decision
budgets). Missing values are caught here with the operations' own sentences, so every empty
field is named at once; the domain checks (dates, budget, receipts, who may do what) stay in
:mod:`civic.implementation.operations`, whose `Invalid` errors the views attach to these
fields (the operations name their fields the same way).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from civic.forms import Form
from flask_wtf.file import MultipleFileField
from wtforms import HiddenField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length

from civic.decisions.forms import ChineseDateField, YuanField
from civic.implementation.models import Score

IMAGES = {"accept": "image/*"}


class ExpenseForm(Form):
    spent_on = ChineseDateField(_l("支付日期"), id="expense-spent_on",
                                validators=[InputRequired(_l("请填写支付日期。"))])
    amount = YuanField(_l("金额（元）"), id="expense-amount",
                       validators=[DataRequired(_l("请填写金额。")), Length(max=24)],
                       render_kw={"inputmode": "decimal", "autocomplete": "off"},
                       description=_l("以元为单位，最多两位小数，例如 3200 或 3,200.50。"))
    payee = StringField(_l("收款方"), id="expense-payee",
                        validators=[DataRequired(_l("请填写收款方。")),
                                    Length(max=120, message=_l("收款方不能超过 120 字。"))],
                        description=_l("收款的单位或个人，按发票或收据填写。"))
    purpose = TextAreaField(_l("用途"), id="expense-purpose",
                            validators=[DataRequired(_l("请填写用途。")),
                                        Length(max=500, message=_l("用途不能超过 500 字。"))],
                            description=_l("买了什么、做了什么，例如：采购排水泵两台。"))
    receipts = MultipleFileField(_l("票据照片"), id="expense-receipts", render_kw=IMAGES,
                                 description=_l("发票、收据或付款凭证的照片，至少 1 张，最多 6 张，会公开显示。"))
    idempotency_key = HiddenField(id="expense-key")


class ReverseForm(Form):
    reason = TextAreaField(_l("冲销理由（公开）"),
                           validators=[DataRequired(_l("请说明冲销的理由。")),
                                       Length(max=500, message=_l("理由不能超过 500 字。"))])


class ReviewForm(Form):
    #: sent by the button pressed: 同意 (approve) or 不同意 (refuse)
    verdict = StringField(validators=[AnyOf(("approve", "refuse"),
                                            message=_l("请选择同意或不同意。"))])
    note = TextAreaField(_l("审核意见（不同意时必填，公开）"),
                         validators=[Length(max=500, message=_l("说明不能超过 500 字。"))])


class ProgressForm(Form):
    # the choices depend on the issue and the user (the view fills them); the operation
    # checks the value again and answers at the field
    status = SelectField(_l("实施状态"), id="progress-status", choices=[],
                         validate_choice=False)
    text = TextAreaField(_l("进展说明（公开）"), id="progress-text",
                         validators=[DataRequired(_l("请填写进展说明。")),
                                     Length(max=2000, message=_l("进展说明不能超过 2000 字。"))],
                         description=_l("做了什么、进度如何、下一步安排。"))
    photos = MultipleFileField(_l("现场照片（可选，最多 6 张）"), id="progress-photos",
                               render_kw=IMAGES)
    idempotency_key = HiddenField(id="progress-key")


#: 问题是否已解决？ — sent as "yes" / "no"
RESOLVED = {"yes": True, "no": False}


class RatingForm(Form):
    """A household's answer (是否解决, 满意度); the operation checks the values again."""

    resolved = RadioField(_l("问题是否已解决？"), validate_choice=False,
                          choices=[SelectChoice("yes", _l("已解决")),
                                   SelectChoice("no", _l("未解决"))],
                          validators=[InputRequired(_l("请选择问题是否已解决。")),
                                      AnyOf(tuple(RESOLVED), message=_l("请选择问题是否已解决。"))])
    # the view fills the choices with Score's own (translated) labels
    score = RadioField(_l("满意度"), validate_choice=False, choices=[],
                       validators=[InputRequired(_l("请选择满意、基本满意或不满意。")),
                                   AnyOf(tuple(s.value for s in Score),
                                         message=_l("请选择满意、基本满意或不满意。"))])
    comment = TextAreaField(_l("补充说明（可选）"), id="rating-comment",
                            validators=[Length(max=500, message=_l("补充说明不能超过 500 字。"))],
                            description=_l("公开显示，不显示你的名字和房号。"))
