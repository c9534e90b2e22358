"""Log-in and log-out, the profile page (password, tokens, language), user administration."""

from datetime import UTC, datetime, time

from flask import (
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from docmgmt.audit.operations import log_event
from docmgmt.auth import bp, directory
from docmgmt.auth import operations as ops
from docmgmt.auth.forms import LoginForm, PasswordChangeForm, TokenForm, UserForm
from docmgmt.auth.models import ApiToken, Department, User
from docmgmt.auth.permissions import can_admin_users, require
from docmgmt.clock import company_tz, to_local, utcnow
from docmgmt.errors import DomainError, NotFound, undo
from docmgmt.extensions import db, login_manager
from docmgmt.formtools import options
from docmgmt.redirects import redirect_back


@login_manager.user_loader
def load_user(session_id: str):
    """Sessions and remember-me cookies carry "<id>:<session version>" (User.get_id); one
    issued before the user last logged out, changed the password or was deactivated (each
    raises the version) opens nothing."""
    user_id, sep, version = (session_id or "").partition(":")
    if not (sep and user_id.isdigit() and version.isdigit()) or int(user_id) > 2**31 - 1:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or (user.session_version or 0) != int(version):
        return None
    return user


def _next_page():
    # Only paths on this site (docmgmt/redirects.py): an open redirect is a phishing aid.
    return redirect_back(request.args.get("next"), url_for("main.index"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = db.session.scalar(User.by_username(form.username.data.strip()))
        if ops.login_throttled(form.username.data.strip(), request.remote_addr or ""):
            log_event(
                user,
                "auth.login_throttled",
                user,
                object_type="user",
                summary=form.username.data.strip()[:64],
            )
            db.session.commit()
            flash(
                _(
                    "Too many wrong passwords for this user name; try again in %(m)d minutes.",
                    m=current_app.config["LOGIN_WINDOW_MINUTES"],
                ),
                "error",
            )
            return render_template("auth/login.html", form=form), 429
        try:
            # The local hash or the directory (docmgmt/auth/directory.py), never both.
            user = ops.user_for_login(form.username.data.strip(), form.password.data)
        except (directory.DirectoryUnavailable, directory.NoDirectoryAccess) as exc:
            db.session.rollback()
            down = isinstance(exc, directory.DirectoryUnavailable)
            log_event(
                user,
                "auth.directory_unavailable" if down else "auth.login_refused",
                user,
                object_type="user",
                summary=form.username.data.strip()[:64],
            )
            db.session.commit()
            flash(exc.message, "error")
            return render_template("auth/login.html", form=form), exc.status
        if user is None:
            user = db.session.scalar(User.by_username(form.username.data.strip()))
            log_event(
                user,
                "auth.login_failed",
                user,
                object_type="user",
                summary=form.username.data.strip()[:64],
            )
            db.session.commit()
            flash(_("Wrong user name or password."), "error")
            status = 401
        elif not user.is_active:
            log_event(user, "auth.login_refused", user, summary=user.username)
            db.session.commit()
            if (
                user.is_active_flag
                and user.access_starts_dt
                and not (
                    user.access_expires_dt
                    and to_local(user.access_expires_dt) <= to_local(utcnow())
                )
                and to_local(user.access_starts_dt) > to_local(utcnow())
            ):
                flash(
                    _(
                        "Your access starts on %(d)s.",
                        d=to_local(user.access_starts_dt).strftime("%Y-%m-%d"),
                    ),
                    "error",
                )
            elif user.is_active_flag and user.access_expired():
                flash(
                    _(
                        "Your access ended on %(d)s.",
                        d=to_local(user.access_expires_dt).strftime("%Y-%m-%d"),
                    ),
                    "error",
                )
            else:
                flash(_("This account is deactivated."), "error")
            status = 403
        else:
            login_user(user, remember=form.remember.data)
            log_event(user, "auth.login", user, summary=user.username)
            db.session.commit()
            return _next_page()
    elif form.is_submitted():
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    ops.log_out(current_user)
    db.session.commit()
    logout_user()
    return redirect(url_for("auth.login"))


def _profile_page(new_token: str | None = None):
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.id.desc())
    ).all()
    response = make_response(
        render_template(
            "auth/profile.html",
            password_form=PasswordChangeForm(),
            token_form=TokenForm(),
            tokens=tokens,
            new_token=new_token,
            **_notification_context(),
        )
    )
    if new_token:
        response.headers["Cache-Control"] = "no-store"  # the secret stays in no cache
    return response


def _notification_context() -> dict:
    from docmgmt import notify

    return {
        "notice_choices": notify.preferences(current_user),
        "notice_labels": notify.EVENT_LABELS,
        "delivery_labels": notify.DELIVERY_LABELS,
        "notice_always": notify.ALWAYS,
    }


@bp.post("/profile/notifications")
@login_required
def save_notifications():
    """Which mails I get: at once or not at all, per kind of event."""
    from docmgmt import notify

    choices = {
        ev.value: request.form[ev.value]
        for ev in notify.Event
        if ev not in notify.ALWAYS and ev.value in request.form
    }
    try:
        notify.set_preferences(current_user, current_user, choices)
        db.session.commit()
        flash(_("Mail settings saved."), "success")
    except DomainError as exc:
        undo(exc)
        flash(exc.message, "error")
    return redirect(url_for("auth.profile") + "#notifications", 303)


@bp.route("/profile", methods=["GET"])
@login_required
def profile():
    return _profile_page()


@bp.post("/profile/password")
@login_required
def change_password():
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        if form.is_submitted() and not form.current.data:
            flash(_("The current password is wrong."), "error")
        else:
            flash(_("The new password must have at least 8 characters."), "error")
        return redirect(url_for("auth.profile"), 303)
    try:
        ops.change_own_password(current_user, form.current.data, form.new.data)
        db.session.commit()
    except DomainError as exc:
        undo(exc)  # a wrong current password is counted like one at a signature
        flash(exc.message, "error")
        return redirect(url_for("auth.profile"), 303)
    # Every other session of this user has ended; this one goes on with the new version.
    remember_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    login_user(current_user._get_current_object(), remember=remember_cookie in request.cookies)
    flash(_("Password changed."), "success")
    return redirect(url_for("auth.profile"), 303)


@bp.post("/profile/tokens")
@login_required
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        flash(_("Give the token a name."), "error")
        return redirect(url_for("auth.profile"), 303)
    _token, secret = ops.create_token(current_user, form.name.data)
    db.session.commit()
    # Shown once, in this answer only: only its hash is kept, and the session cookie (signed,
    # not encrypted: anyone holding it can read it) never carries it.
    return _profile_page(new_token=secret)


@bp.post("/profile/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id):
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(_("No such token."))
    ops.revoke_token(current_user, token)
    db.session.commit()
    flash(_("Token revoked."), "success")
    return redirect(url_for("auth.profile"), 303)


@bp.post("/lang/<code>")
def set_language(code):
    """The top bar's language buttons: a form (CSRF-protected like every POST), since it
    stores the signed-in user's choice; a GET changes nothing."""
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        if current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
    return redirect_back(request.args.get("next"), url_for("main.index"), 303)


# ---------------------------------------------------------------- user administration


def _dep_choices():
    deps = db.session.scalars(select(Department).order_by(Department.code)).all()
    return options([(0, "—")] + [(d.id, d.shown_name) for d in deps])


def _expiry(d):
    if not d:
        return None
    # Access runs to the end of that day in the company's time zone.
    return datetime.combine(d, time(23, 59, 59), tzinfo=company_tz()).astimezone(UTC)


@bp.get("/admin/users")
@login_required
def users():
    require(can_admin_users(current_user))
    people = db.session.scalars(select(User).order_by(User.username)).all()
    return render_template("auth/users.html", users=people)


def _start(day):
    if day is None:
        return None
    return datetime.combine(day, time(0, 0), tzinfo=company_tz()).astimezone(UTC)


def _codes(text):
    return [c.strip() for c in (text or "").replace("，", ",").split(",") if c.strip()]


@bp.route("/admin/users/new", methods=["GET", "POST"])
@login_required
def new_user():
    require(can_admin_users(current_user))
    form = UserForm()
    form.department_id.choices = _dep_choices()
    status = 200
    if form.validate_on_submit():
        try:
            user = ops.create_user(
                current_user,
                form.username.data,
                form.full_name.data,
                form.password.data or "",
                form.roles.data,
                department=db.session.get(Department, form.department_id.data)
                if form.department_id.data
                else None,
                email=form.email.data,
                job_title=form.job_title.data,
                access_expires_dt=_expiry(form.access_expires.data),
                access_starts_dt=_start(form.access_starts.data),
                audit_departments=_codes(form.audit_departments.data),
            )
            db.session.commit()
            flash(_("User %(u)s created.", u=user.username), "success")
            return redirect(url_for("auth.users"), 303)
        except DomainError as exc:
            undo(exc)
            flash(exc.message, "error")
            status = exc.status
    elif form.is_submitted():
        status = 422
    return render_template("auth/user_form.html", form=form, user=None), status


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def edit_user(user_id):
    require(can_admin_users(current_user))
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    form = UserForm(obj=user)
    form.department_id.choices = _dep_choices()
    del form.username
    if request.method == "GET":
        form.department_id.data = user.department_id or 0
        form.roles.data = sorted(r.value for r in user.roles)
        if user.access_expires_dt:
            form.access_expires.data = to_local(user.access_expires_dt).date()
        if user.access_starts_dt:
            form.access_starts.data = to_local(user.access_starts_dt).date()
        form.audit_departments.data = ", ".join(user.audit_departments or [])
    status = 200
    if form.validate_on_submit():
        try:
            ops.update_user(
                current_user,
                user,
                full_name=form.full_name.data,
                email=form.email.data,
                job_title=form.job_title.data,
                department=db.session.get(Department, form.department_id.data)
                if form.department_id.data
                else None,
                roles=form.roles.data,
                access_expires_dt=_expiry(form.access_expires.data),
                access_starts_dt=_start(form.access_starts.data),
                audit_departments=_codes(form.audit_departments.data),
            )
            if form.password.data:
                ops.set_password(current_user, user, form.password.data)
            db.session.commit()
            flash(_("User %(u)s saved.", u=user.username), "success")
            return redirect(url_for("auth.users"), 303)
        except DomainError as exc:
            undo(exc)
            flash(exc.message, "error")
            status = exc.status
    elif form.is_submitted():
        status = 422
    return render_template("auth/user_form.html", form=form, user=user), status


@bp.post("/admin/users/<int:user_id>/active")
@login_required
def set_user_active(user_id):
    require(can_admin_users(current_user))
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    active = request.form.get("active") == "1"
    ops.set_active(current_user, user, active)
    db.session.commit()
    flash(
        _("User %(u)s activated.", u=user.username)
        if active
        else _(
            "User %(u)s deactivated; their name stays on everything they signed.", u=user.username
        ),
        "success",
    )
    return redirect(url_for("auth.users"), 303)


@bp.post("/admin/users/<int:user_id>/unlock")
@login_required
def unlock_user(user_id):
    require(can_admin_users(current_user))
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    ops.unlock_signing(current_user, user)
    db.session.commit()
    flash(_("Signing unlocked for %(u)s.", u=user.username), "success")
    return redirect(url_for("auth.users"), 303)
