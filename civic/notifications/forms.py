"""E-mail notification preferences."""
from flask_babel import lazy_gettext as _l
from civic.forms import Form
from wtforms import EmailField, RadioField, SelectChoice
from wtforms.validators import Length, ValidationError

from civic.notifications.models import EmailMode
from civic.notifications.operations import valid_email

BAD_EMAIL = _l("请输入有效的邮箱地址，例如 name@example.com。")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SettingsForm(Form):
    email = EmailField(_l("接收通知的邮箱（可选）"), filters=[_strip],
                       validators=[Length(max=254, message=BAD_EMAIL)],
                       description=_l("只用于给你发送通知，不会公开，也不会给其他人看到。"),
                       render_kw={"autocomplete": "email", "inputmode": "email"})
    mode = RadioField(_l("邮件通知"), default=EmailMode.OFF.value, choices=[
        SelectChoice(EmailMode.IMMEDIATE.value, _l("立即发送：每条通知发一封邮件")),
        SelectChoice(EmailMode.DAILY.value, _l("每日摘要：每天最多一封，汇总新通知")),
        SelectChoice(EmailMode.OFF.value, _l("不发送邮件：只在通知中心查看")),
    ])

    def validate_email(self, field) -> None:
        if field.data and not valid_email(field.data):
            raise ValidationError(BAD_EMAIL)
