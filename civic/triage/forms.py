from flask_babel import lazy_gettext as _l
from civic.forms import Form
from wtforms import (BooleanField, HiddenField, IntegerField, RadioField, SelectChoice,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from civic.accounts.forms import REQUIRED

BODIES = [SelectChoice("committee", _l("居委会")), SelectChoice("association", _l("业委会")),
          SelectChoice("property", _l("物业"))]


class AcceptForm(Form):
    lead = RadioField(_l("主责方"), choices=BODIES, validators=[DataRequired(_l("请选择主责方。"))])
    participants = SelectMultipleField(_l("参与方"), choices=BODIES, validators=[Optional()],
                                       widget=ListWidget(prefix_label=False),
                                       option_widget=CheckboxInput())


class DeclineForm(Form):
    reason = TextAreaField(_l("不予受理的理由（公开）"),
                           validators=[DataRequired(REQUIRED), Length(max=2000)])


class MergeForm(Form):
    target = IntegerField(_l("并入议题编号 #"), validators=[DataRequired(REQUIRED),
                                                       NumberRange(1, 2**31 - 1)])


class ReferForm(Form):
    office = StringField(_l("转办部门"), validators=[DataRequired(REQUIRED), Length(max=80)],
                         description=_l("例如：区市场监管局、街道城管中队"))
    office_ref = StringField(_l("转办编号（可选）"), validators=[Length(max=60)])
    note = TextAreaField(_l("转办说明（公开）"), validators=[Length(max=2000)])


class RulingForm(Form):
    lead = RadioField(_l("联席会议认定的主责方"), choices=BODIES,
                      validators=[DataRequired(_l("请选择主责方。"))])
    ruling = TextAreaField(_l("认定意见"), validators=[DataRequired(REQUIRED), Length(max=4000)])
    save_precedent = BooleanField(_l("保存为案例，今后同类议题参考"))
    precedent_title = StringField(_l("案例标题（可选）"), validators=[Length(max=80)])


class ResponseForm(Form):
    text = TextAreaField(_l("正式答复"), validators=[DataRequired(REQUIRED), Length(max=5000)])
    idempotency_key = HiddenField()
