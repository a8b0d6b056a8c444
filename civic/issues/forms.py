from flask_babel import lazy_gettext as _l
from civic.forms import Form
from flask_wtf.file import MultipleFileField
from wtforms import (HiddenField, IntegerField, RadioField, SelectChoice, SelectField,
                     StringField, TextAreaField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from civic.accounts.forms import REQUIRED


class IssueForm(Form):
    title = StringField(_l("标题"), validators=[DataRequired(REQUIRED), Length(max=80)],
                        description=_l("一句话说清楚问题，例如：3号楼北侧路灯坏了一个月"))
    category = SelectField(_l("分类"), choices=[], validators=[DataRequired(REQUIRED)])
    building_id = SelectField(_l("地点"), choices=[], validators=[Optional()])
    place_text = StringField(_l("具体位置（可选）"), validators=[Length(max=60)],
                             description=_l("例如：北门岗亭旁、地下车库B区"))
    body = TextAreaField(_l("详细说明"), validators=[Length(max=5000)],
                         description=_l("现状、影响、你的建议。可以用 Markdown：**加粗**、- 列表、[链接](https://…)。"))
    photos = MultipleFileField(_l("照片（随手拍，最多 6 张）"),
                               render_kw={"accept": "image/jpeg,image/png,image/webp"})
    idempotency_key = HiddenField()


class CosignForm(Form):
    comment = StringField(_l("说一句（可选）"), validators=[Length(max=140)])


class CommentForm(Form):
    body = TextAreaField(_l("发表意见"), validators=[DataRequired(_l("请写下你的意见。")),
                                                 Length(max=2000)])
    parent_id = HiddenField()
    idempotency_key = HiddenField()


class RulesForm(Form):
    threshold_kind = RadioField(_l("联署门槛"), choices=[
        SelectChoice("households", _l("固定户数")),
        SelectChoice("share", _l("已认证户数的一定比例（如 1/5，召开居民会议的比例）")),
        SelectChoice("owners", _l("专有面积和业主人数均达 20%（提议召开临时业主大会的比例）")),
    ])
    households = IntegerField(_l("户数"), validators=[Optional(), NumberRange(1, 100000)])
    share_num = IntegerField(_l("比例分子"), validators=[Optional(), NumberRange(1, 100)])
    share_den = IntegerField(_l("比例分母"), validators=[Optional(), NumberRange(1, 100)])
    collect_days = IntegerField(_l("征集期（天）"), validators=[DataRequired(REQUIRED),
                                                          NumberRange(1, 365)])
    triage_days = IntegerField(_l("受理时限（天）"), validators=[DataRequired(REQUIRED),
                                                           NumberRange(1, 60)])
    notice_days = IntegerField(_l("协商会议提前通知（天）"), validators=[Optional(),
                                                               NumberRange(1, 30)])
    publicity_days = IntegerField(_l("决议公示期（天）"), validators=[Optional(),
                                                            NumberRange(1, 60)])
    categories = TextAreaField(_l("议题分类（每行一个）"), validators=[DataRequired(REQUIRED)])
