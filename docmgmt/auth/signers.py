"""The person named to sign a step (a revision's reviewer or approver, the approver of a
disposal or a withdrawal), checked in one place so every refusal names the field and the
real reason: none chosen, no such user, the submitter themself, deactivated, or not allowed
to sign that step."""

from collections.abc import Callable

from flask_babel import gettext as _

from docmgmt.auth.models import User
from docmgmt.errors import ValidationFailed
from docmgmt.extensions import db


def role_label(role: str) -> str:
    return {"reviewer": _("reviewer"), "approver": _("approver")}[role]


def named_signer(
    value: "User | int | None",
    *,
    field: str,
    role: str,
    actor: User | None = None,
    may_sign: Callable[[User], bool] | None = None,
    not_allowed: Callable[[User], str] | None = None,
) -> User:
    """Return the user named (a User or an id) to sign as ``role`` ("reviewer" or "approver"),
    or raise ValidationFailed on ``field`` saying what is wrong."""
    label = role_label(role)
    if isinstance(value, User):
        user = value
    elif value is None or value == 0 or value == "":
        raise ValidationFailed(_("Choose the %(role)s.", role=label), field=field)
    else:
        try:
            user_id = int(value)
        except (TypeError, ValueError):
            user_id = None
        user = db.session.get(User, user_id) if user_id is not None else None
        if user is None:
            raise ValidationFailed(
                _(
                    "There is no user with the id %(id)s: choose the %(role)s from the list.",
                    id=value,
                    role=label,
                ),
                field=field,
            )
    if actor is not None and user.id == actor.id:
        raise ValidationFailed(
            _(
                "You cannot be the %(role)s of what you submit yourself: choose someone else.",
                role=label,
            ),
            field=field,
        )
    if not user.is_active:
        raise ValidationFailed(
            _(
                "%(name)s is deactivated or has no access now and cannot sign as %(role)s.",
                name=user.full_name,
                role=label,
            ),
            field=field,
        )
    if may_sign is not None and not may_sign(user):
        raise ValidationFailed(
            not_allowed(user)
            if not_allowed
            else _("%(name)s may not sign as %(role)s.", name=user.full_name, role=label),
            field=field,
        )
    return user
