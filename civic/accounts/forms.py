"""Account forms. Labels are Chinese msgids, translated lazily."""
from flask_babel import lazy_gettext as _l
from civic.forms import Form
from wtforms import BooleanField, PasswordField, RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from civic.i18n import LOCALES

REQUIRED = _l("请填写此项。")


class RegisterForm(Form):
    phone = StringField(_l("手机号"), validators=[DataRequired(REQUIRED), Length(max=20)],
                        render_kw={"autocomplete": "tel", "inputmode": "tel"})
    display_name = StringField(_l("称呼（可选）"), validators=[Length(max=40)],
                               description=_l("默认不公开，公开时显示为“某号楼居民”。"))
    password = PasswordField(_l("密码"), validators=[DataRequired(REQUIRED), Length(max=128)],
                             description=_l("至少 8 个字符，不要用常见密码。"),
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("再次输入密码"), validators=[
        DataRequired(REQUIRED), EqualTo("password", _l("两次输入的密码不一致。"))],
        render_kw={"autocomplete": "new-password"})


class LoginForm(Form):
    phone = StringField(_l("手机号"), validators=[DataRequired(REQUIRED), Length(max=20)],
                        render_kw={"autocomplete": "username", "inputmode": "tel"})
    password = PasswordField(_l("密码"), validators=[DataRequired(REQUIRED), Length(max=128)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("在这台设备上保持登录"))


class ProfileForm(Form):
    display_name = StringField(_l("称呼"), validators=[Length(max=40)])
    show_name = BooleanField(_l("在公开页面显示我的称呼（否则显示为“某号楼居民”）"))
    locale = RadioField(_l("界面语言"), choices=[SelectChoice(k, v) for k, v in LOCALES.items()], default="zh_CN")


class PasswordForm(Form):
    current = PasswordField(_l("当前密码"), validators=[DataRequired(REQUIRED)],
                            render_kw={"autocomplete": "current-password"})
    new = PasswordField(_l("新密码"), validators=[DataRequired(REQUIRED), Length(max=128)],
                        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("再次输入新密码"), validators=[
        DataRequired(REQUIRED), EqualTo("new", _l("两次输入的密码不一致。"))],
        render_kw={"autocomplete": "new-password"})


class DeleteAccountForm(Form):
    password = PasswordField(_l("当前密码"), validators=[DataRequired(REQUIRED)],
                             render_kw={"autocomplete": "current-password"})
    confirm = BooleanField(_l("我已了解：注销后无法恢复，手机号和姓名将被删除"),
                           validators=[DataRequired(_l("请勾选确认。"))])
