from flask_babel import lazy_gettext as _l
from civic.forms import Form
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from civic.accounts.forms import REQUIRED


class CommunityForm(Form):
    name = StringField(_l("小区名称"), validators=[DataRequired(REQUIRED), Length(max=80)])
    slug = StringField(_l("网址标识"), validators=[DataRequired(REQUIRED), Length(max=40)],
                       description=_l("用于网址 /c/标识/，例如 huamu-1，只能用小写字母、数字和连字符。"))
    district = StringField(_l("所属街道"), validators=[Length(max=80)])


class GrantForm(Form):
    """Grant a staff role to an existing account, found by its phone number."""
    phone = StringField(_l("对方手机号"), validators=[DataRequired(REQUIRED), Length(max=20)],
                        description=_l("对方需要先用这个手机号注册账号。"),
                        render_kw={"inputmode": "tel"})
    role = SelectField(_l("角色"), choices=[])
    title = StringField(_l("职务（公开显示）"), validators=[Length(max=40)],
                        description=_l("例如：居委会主任、业委会委员、物业项目经理。"))
