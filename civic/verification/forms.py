"""Verification forms. Labels are Chinese msgids, translated lazily.

Choice fields validate with Chinese messages of our own (validate_choice=False plus AnyOf),
because WTForms' built-in choice errors are English.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from civic.forms import Form
from wtforms import HiddenField, RadioField, SelectField, SelectMultipleField, StringField, \
    TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, ValidationError

from civic.accounts.forms import REQUIRED

BAD_CHOICE = _l("请从列表中选择。")


def _int_or_none(value) -> int | None:
    """Coerce an id without WTForms' English error for garbage (it then fails our check)."""
    return int(value) if str(value).isdigit() else None


def tenure_field(label, owner: str, tenant: str, description=None) -> RadioField:
    """Owner/tenant radio, defaulting to owner."""
    return RadioField(label, choices=[SelectChoice("owner", owner), SelectChoice("tenant", tenant)], default="owner",
                      validate_choice=False, description=description,
                      validators=[AnyOf(["owner", "tenant"], message=BAD_CHOICE)])


class RedeemForm(Form):
    code = StringField(_l("邀请码"), validators=[DataRequired(REQUIRED), Length(max=40)],
                       description=_l("10 位字母和数字，例如 ABCDE-FGHJK，不区分大小写。"),
                       render_kw={"autocomplete": "off", "autocapitalize": "characters",
                                  "spellcheck": "false"})


class CodesForm(Form):
    """Generate codes for all units of a building or for the units ticked."""

    building = HiddenField()
    tenure = tenure_field(_l("邀请码类型"), _l("业主码"), _l("租户码"))
    scope = RadioField(_l("为哪些房号生成"), default="selected", validate_choice=False,
                       choices=[SelectChoice("selected", _l("只为下面勾选的房号")),
                                SelectChoice("all", _l("本楼全部房号"))],
                       validators=[AnyOf(["selected", "all"], message=BAD_CHOICE)])
    units = SelectMultipleField(_l("房号"), coerce=_int_or_none, choices=[],
                                validate_choice=False)

    def validate_units(self, field) -> None:
        """Ticked ids must be this building's units; at least one when not 'all'."""
        allowed = {choice.value for choice in field.choices}
        if any(i not in allowed for i in field.data or []):
            raise ValidationError(_l("所选房号不属于这栋楼。"))
        if self.scope.data == "selected" and not field.data:
            raise ValidationError(_l("请至少勾选一个房号，或选择“本楼全部房号”。"))


class ClaimForm(Form):
    building = HiddenField()
    unit = SelectField(_l("房号"), choices=[], validate_choice=False,
                       validators=[DataRequired(_l("请选择房号。"))])
    tenure = tenure_field(_l("你是这户的"), _l("业主（含业主家庭成员）"), _l("租户"),
                          description=_l("只有业主可以参加业主表决；如实选择，居委会会核对。"))
    note = TextAreaField(_l("说明"), validators=[DataRequired(REQUIRED), Length(max=300)],
                         description=_l("写给居委会：你和这户的关系、入住时间、怎样联系你核实。"
                                        "不要填写身份证号。"))


class ReasonForm(Form):
    """A required reason: for rejecting a claim or revoking a membership."""

    reason = StringField(_l("原因"), validators=[DataRequired(_l("请写明原因。")), Length(max=200)])
