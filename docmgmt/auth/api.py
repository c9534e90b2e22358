"""The API's view of the token holder's own account: who they are, which mails they get.

These routes are on the shared "api" blueprint (docmgmt/api/), under /api/v1."""

from flask import request
from flask_babel import gettext as _
from marshmallow import Schema, fields

from docmgmt import notify
from docmgmt.api import blp
from docmgmt.api.auth import api_user as actor
from docmgmt.errors import ValidationFailed
from docmgmt.extensions import db


class UserSchema(Schema):
    id = fields.Int()
    username = fields.Str()
    full_name = fields.Str()
    department = fields.Str(allow_none=True)
    roles = fields.List(fields.Str())


@blp.get("/me")
@blp.response(200, UserSchema)
def me():
    """The user the token belongs to."""
    u = actor()
    return {
        "id": u.id,
        "username": u.username,
        "full_name": u.full_name,
        "department": u.department.code if u.department else None,
        "roles": sorted(r.value for r in u.roles),
    }


def _notifications_json(user) -> dict:
    return {
        "notifications": [
            {
                "event": ev.value,
                "label": str(notify.EVENT_LABELS[ev]),
                "delivery": mode.value,
                "always": ev in notify.ALWAYS,
            }
            for ev, mode in notify.preferences(user).items()
        ],
        "deliveries": [d.value for d in notify.Delivery],
    }


@blp.get("/me/notifications")
def get_notifications():
    """Which mails the token's user gets, per kind of event: "now", "digest" (in the daily
    digest mail) or "off" (signature requests are always sent at once)."""
    return _notifications_json(actor())


@blp.put("/me/notifications")
def put_notifications():
    """Set some or all choices: {"notifications": {"<event>": "now" | "digest" | "off", ...}}."""
    data = request.get_json(silent=True)
    choices = data.get("notifications") if isinstance(data, dict) else None
    if not isinstance(choices, dict):
        raise ValidationFailed(
            _('Send {"notifications": {"<event>": "now", "digest" or "off"}}.'),
            field="notifications",
        )
    notify.set_preferences(actor(), actor(), choices)
    db.session.commit()
    return _notifications_json(actor())
