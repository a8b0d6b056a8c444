"""Decision forms: publishing, correcting, objecting, answering, withdrawing.

Budgets are typed in yuan and parsed exactly into fen (:func:`civic.money.parse_yuan`);
the domain checks (lead body, due date, funding source …) stay in the operations, whose
`Invalid` errors the views attach to these fields.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from civic.forms import Form
from wtforms import (DateField, HiddenField, RadioField, SelectChoice, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from civic.accounts.forms import REQUIRED
from civic.consultation.models import FundingSource
from civic.consultation.rules import REQUIRED_BODIES
from civic.money import parse_yuan

LEADS = [SelectChoice(b.value, b.label) for b in REQUIRED_BODIES]
FUNDING = [SelectChoice("", _l("请选择资金来源"))] + [
    SelectChoice(f.value, f.label) for f in FundingSource]
#: operation field names → form field names
FIELD_OF = {"budget_fen": "budget"}


class ChineseDateField(DateField):
    """A date input whose parse error is a Chinese sentence, not WTForms' English."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(_l("请按“年-月-日”填写日期，例如 2026-06-30。")) from None


class YuanField(StringField):
    """An amount in yuan ("12,500.50"); `fen` holds the exact value once validated."""

    fen: int | None = None

    def pre_validate(self, form) -> None:
        self.fen = None
        if not (self.data or "").strip():
            return
        try:
            self.fen = parse_yuan(self.data)
        except ValueError:
            raise ValidationError(_l("请按元填写金额，例如 12500 或 12,500.50（不能为负数，最多两位小数）。")) from None


class TermsForm(Form):
    """The terms of a decision: explanation, lead body, due date, budget, funding source.
    For a rejection only the explanation counts (the view says which)."""

    summary = TextAreaField(_l("决议说明（公开）"), validators=[Length(max=5000)],
                            description=_l("写明决定了什么、为什么；不予实施时必须说明理由。"))
    # choices are checked by the operations, which answer in Chinese at the field
    lead = RadioField(_l("负责实施的一方"), choices=LEADS, validators=[Optional()],
                      validate_choice=False)
    due_on = ChineseDateField(_l("完成期限"), validators=[Optional()])
    budget = YuanField(_l("批准预算（元）"), validators=[Length(max=24)],
                       render_kw={"inputmode": "decimal", "autocomplete": "off"},
                       description=_l("以元为单位，最多两位小数，例如 18000 或 18,000.50。"))
    funding_source = SelectField(_l("资金来源"), choices=FUNDING, validators=[Optional()],
                                 validate_choice=False)

    def require_terms(self) -> bool:
        """The fields an adopted plan needs; adds Chinese errors and says whether all are
        there."""
        ok = True
        if not self.due_on.data and not self.due_on.errors:
            self.due_on.errors.append(_l("请填写完成期限。"))
            ok = False
        if not (self.budget.data or "").strip() and not self.budget.errors:
            self.budget.errors.append(_l("请填写批准预算（元），没有费用请填 0。"))
            ok = False
        return ok and not any(f.errors for f in self)


class PublishForm(TermsForm):
    pass


class CorrectForm(TermsForm):
    note = TextAreaField(_l("更正说明（公开）"),
                         validators=[DataRequired(REQUIRED), Length(max=2000)],
                         description=_l("写明更正了什么、为什么。原决议和更正后的决议都会保持公开。"))


class ObjectionForm(Form):
    text = TextAreaField(_l("异议内容和理由"), id="objection-text",
                         validators=[DataRequired(REQUIRED), Length(max=2000)],
                         description=_l("异议会公开显示（以“某号楼居民”署名），居委会须公开答复。"))
    idempotency_key = HiddenField()


class AnswerForm(Form):
    answer = TextAreaField(_l("公开答复"), validators=[DataRequired(REQUIRED), Length(max=2000)])


class WithdrawForm(Form):
    reason = TextAreaField(_l("撤回理由（公开）"), id="withdraw-reason",
                           validators=[DataRequired(REQUIRED), Length(max=2000)],
                           description=_l("撤回后议题回到协商中，可以另开一轮协商。"))
