"""Moderation forms. Labels are Chinese msgids, translated lazily.

The preset reasons are stored in Chinese (the value), whatever the reader's language."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from civic.forms import Form
from wtforms import RadioField, SelectChoice, StringField
from wtforms.validators import AnyOf, DataRequired, Length, ValidationError

OTHER = "其他"
PRESETS = ["人身攻击", "泄露个人信息", "广告", "不实信息", OTHER]
BAD_CHOICE = _l("请从列表中选择。")


class ReportForm(Form):
    reason = RadioField(_l("举报原因"), validate_choice=False, choices=[
        SelectChoice("人身攻击", _l("人身攻击")),
        SelectChoice("泄露个人信息", _l("泄露个人信息")),
        SelectChoice("广告", _l("广告")),
        SelectChoice("不实信息", _l("不实信息")),
        SelectChoice(OTHER, _l("其他")),
    ], validators=[DataRequired(_l("请选择举报原因。")), AnyOf(PRESETS, message=BAD_CHOICE)])
    detail = StringField(_l("补充说明"),
                         validators=[Length(max=190, message=_l("补充说明不能超过 190 字。"))],
                         description=_l("选“其他”时必填。只有居委会能看到；不要写别人的电话、房号。"))

    def validate_detail(self, field) -> None:
        if self.reason.data == OTHER and not (field.data or "").strip():
            raise ValidationError(_l("选择“其他”时请写明原因。"))

    def composed(self) -> str:
        """The stored reason: the preset, then the resident's words if any."""
        detail = " ".join((self.detail.data or "").split())
        return f"{self.reason.data}：{detail}" if detail else self.reason.data

    def unique_ids(self, suffix: str) -> ReportForm:
        """Distinct element ids, for several report forms swapped into one page."""
        for f in (self.reason, self.detail):
            f.id = f"{f.name}-{suffix}"
            f.label.field_id = f.id
        return self


class ReasonForm(Form):
    """The reason a moderator gives for hiding, restoring, dismissing or suspending."""

    reason = StringField(_l("原因"), validators=[
        DataRequired(_l("请写明原因。")), Length(max=200, message=_l("原因不能超过 200 字。"))])
