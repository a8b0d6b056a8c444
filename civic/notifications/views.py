"""The notification centre and e-mail preferences."""
from __future__ import annotations

from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from civic.domain import Invalid
from civic.extensions import db
from civic.htmx import render, see_other
from civic.notifications import bp
from civic.notifications import operations as ops
from civic.notifications.forms import SettingsForm
from civic.notifications.models import EmailMode, Notification

PER_PAGE = 30


@bp.route("/")
@login_required
def index():
    page = request.args.get("page", 1, type=int)
    page = page if page and 0 < page < 10_000 else 1
    total = db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == current_user.id)) or 0
    items = db.session.scalars(
        select(Notification).where(Notification.user_id == current_user.id)
        .order_by(Notification.id.desc()).limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return render("notifications/index.html", items=items, message=ops.message, page=page,
                  pages=max(1, -(-total // PER_PAGE)))


@bp.route("/read", methods=["POST"])
@login_required
def read_all():
    ops.mark_all_read(current_user.id)
    db.session.commit()
    return see_other(url_for("notifications.index"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    setting = ops.setting_for(current_user.id)
    form = SettingsForm(data={"email": setting.email or "", "mode": setting.mode.value}
                        if setting else None)
    if form.validate_on_submit():
        try:
            ops.save_setting(current_user, form.email.data, EmailMode(form.mode.data))
        except Invalid as e:
            getattr(form, e.field).errors.append(e.message)
        else:
            db.session.commit()
            flash(_("通知设置已保存。"), "success")
            return see_other(url_for("notifications.settings"))
    return render("notifications/settings.html", form=form,
                  status=400 if form.is_submitted() else 200)
