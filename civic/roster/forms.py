"""Roster forms. Field checks reuse the sheet's value rules, so a form and an import agree."""
from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from civic.forms import Form
from flask_wtf.file import FileAllowed, FileField, FileRequired, FileSize
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, ValidationError

from civic.accounts.forms import REQUIRED
from civic.roster.parse import (MAX_LEN, CellError, normalise_building, normalise_number,
                                normalise_owner_key, normalise_owner_name, parse_area)

#: largest roster file accepted from the browser (20000 rows fit in well under 2 MB)
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def _rule(check: Callable[[str], object]):
    """A WTForms validator running one of the roster's value checks."""
    def validator(form, field) -> None:
        try:
            check(field.data or "")
        except CellError as e:
            raise ValidationError(_(e.reason, **e.args_)) from None
    return validator


class ImportForm(Form):
    file = FileField(_l("名册文件（CSV 或 XLSX）"), validators=[
        FileRequired(_l("请选择要上传的名册文件。")),
        FileAllowed(["csv", "xlsx"], _l("只能上传 CSV 或 XLSX 文件。")),
        FileSize(MAX_UPLOAD_BYTES, message=_l("文件超过 5 MB。请删去无关的列和工作表，或拆分成几个文件分别导入。")),
    ], render_kw={"accept": ".csv,.xlsx"})


class BuildingForm(Form):
    name = StringField(_l("楼栋名称"), validators=[DataRequired(REQUIRED), _rule(normalise_building)],
                       description=_l("例如 5号楼、5栋、A座；只填数字 5 会记为“5号楼”。"),
                       render_kw={"maxlength": MAX_LEN["building"]})


class UnitForm(Form):
    number = StringField(_l("房号"), validators=[DataRequired(REQUIRED), _rule(normalise_number)],
                         description=_l("按门牌填写，例如 301 或 2单元301。"),
                         render_kw={"maxlength": MAX_LEN["number"]})
    area = StringField(_l("专有部分面积（平方米）"), validators=[DataRequired(REQUIRED), _rule(parse_area)],
                       description=_l("以产权登记为准，最多两位小数，例如 89.50。"),
                       render_kw={"inputmode": "decimal", "maxlength": 20})
    owner_name = StringField(_l("业主姓名"), validators=[_rule(normalise_owner_name)],
                             description=_l("仅居委会可见。"),
                             render_kw={"maxlength": MAX_LEN["owner_name"]})
    owner_key = StringField(_l("业主编号（可选）"), validators=[_rule(normalise_owner_key)],
                            description=_l("同一编号即同一位业主；不填时按姓名认定。"
                                           "改名会同时更新此业主名下的所有房屋。"),
                            render_kw={"maxlength": MAX_LEN["owner_key"]})
    is_developer = BooleanField(_l("开发商持有（未售出或未交付）"))
