"""Thin views: load → authorise → validate → operate → commit → render/redirect."""
from __future__ import annotations

import json

from flask import current_app, flash, make_response, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from civic.accounts import bp
from civic.accounts import operations as ops
from civic.accounts.forms import (DeleteAccountForm, LoginForm, PasswordForm, ProfileForm,
                                  RegisterForm)
from civic.communities.models import Community
from civic.domain import Invalid
from civic.extensions import csrf, db, limiter
from civic.htmx import render, see_other
from civic.i18n import LOCALES
from civic.urls import safe_next


def _failed(response) -> bool:
    """Count only failed attempts against login limits."""
    return response.status_code != 303


def _login_key() -> str:
    return "login-phone:" + (ops.normalise_phone(request.form.get("phone", "")) or "invalid")


@bp.route("/")
def index():
    communities = db.session.execute(select(Community).order_by(Community.name)).scalars().all()
    mine = []
    if current_user.is_authenticated:
        ids = {m.community_id for m in current_user.memberships if m.is_active}
        mine = [c for c in communities if c.id in ids]
        if len(mine) == 1 and not request.args.get("all"):
            return redirect(url_for("communities.home", slug=mine[0].slug))
    return render("accounts/index.html", communities=communities, mine=mine)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            ops.register(form.phone.data, form.password.data, form.display_name.data or "")
        except Invalid as e:
            getattr(form, e.field).errors.append(e.message)
        else:
            db.session.commit()
            # Same answer whether or not the number already had an account.
            flash(_("注册已受理。请用这个手机号和刚才设置的密码登录。"), "success")
            return see_other(url_for("accounts.login", next=request.args.get("next")))
    return render("accounts/register.html", form=form, status=400 if form.is_submitted() else 200)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("30 per 15 minutes", methods=["POST"], deduct_when=_failed)
@limiter.limit("10 per 15 minutes", methods=["POST"], deduct_when=_failed, key_func=_login_key)
def login():
    nxt = safe_next(request.args.get("next"), url_for("accounts.index"))
    if current_user.is_authenticated:
        return redirect(nxt)
    form = LoginForm()
    if form.validate_on_submit():
        user = ops.authenticate(form.phone.data, form.password.data)
        if user is None:
            form.password.errors.append(_("手机号或密码不正确。"))
        else:
            is_staff = any(m.is_active and m.role.is_staff for m in user.memberships)
            # Staff get no long-lived cookie: their sessions end with the browser.
            login_user(user, remember=bool(form.remember.data) and not is_staff)
            ops.mark_login(user)
            db.session.commit()
            session.permanent = False
            return see_other(nxt)
    return render("accounts/login.html", form=form, status=400 if form.is_submitted() else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    ops.log_out(current_user)
    db.session.commit()
    logout_user()
    flash(_("你已退出登录。"), "info")
    return see_other(url_for("accounts.index"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        ops.update_profile(current_user, form.display_name.data or "", form.show_name.data,
                           form.locale.data)
        db.session.commit()
        flash(_("已保存。"), "success")
        return see_other(url_for("accounts.profile"))
    memberships = [m for m in current_user.memberships if m.is_active]
    return render("accounts/profile.html", form=form, memberships=memberships,
                  status=400 if form.is_submitted() else 200)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            ops.change_password(current_user, form.current.data, form.new.data)
        except Invalid as e:
            getattr(form, e.field).errors.append(e.message)
        else:
            db.session.commit()
            # The token changed: re-issue this device's cookie, others are logged out.
            login_user(current_user._get_current_object())
            flash(_("密码已修改，其他设备上的登录已失效。"), "success")
            return see_other(url_for("accounts.profile"))
    return render("accounts/password.html", form=form, status=400 if form.is_submitted() else 200)


@bp.route("/account/data.json")
@login_required
def export_data():
    """Everything stored about the user, as a JSON download (个人信息下载)."""
    from civic.accounts.privacy import export_data as collect
    body = json.dumps(collect(current_user), ensure_ascii=False, indent=1, sort_keys=True)
    resp = make_response(body)
    resp.headers["Content-Type"] = "application/json; charset=utf-8"
    resp.headers["Content-Disposition"] = 'attachment; filename="civic-my-data.json"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    from civic.accounts.privacy import delete_account as delete
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            delete(current_user, form.password.data)
        except Invalid as e:
            getattr(form, e.field).errors.append(e.message)
        else:
            db.session.commit()
            logout_user()
            session.clear()
            flash(_("账号已注销。你发表过的内容以“已注销用户”的名义保留在公开记录中。"), "info")
            return see_other(url_for("accounts.index"))
    return render("accounts/delete.html", form=form,
                  status=400 if form.is_submitted() else 200)


@bp.route("/locale", methods=["POST"])
@csrf.exempt
def set_locale():
    """Switch the language. Anonymous visitors need no token (it only sets their own
    session's language), so public pages carry none and can be cached by anyone; a
    signed-in user's choice is saved to the account, so it is CSRF-checked."""
    if current_user.is_authenticated and current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()
    lang = request.form.get("lang")
    if lang in LOCALES:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
            db.session.commit()
    return see_other(safe_next(request.form.get("next"), url_for("accounts.index")))

