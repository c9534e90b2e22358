"""The token holder's inbox in the API (the start page's list of signatures to give).

This route is on the shared "api" blueprint (docmgmt/api/), under /api/v1."""

from marshmallow import Schema, fields

from docmgmt.api import blp
from docmgmt.api.auth import api_user as actor
from docmgmt.main.views import inbox_for


class InboxItemSchema(Schema):
    revision_id = fields.Int()
    document_number = fields.Str()
    version = fields.Str()
    title = fields.Str()
    meaning = fields.Str()


@blp.get("/inbox")
@blp.response(200, InboxItemSchema(many=True))
def inbox():
    """Signatures waiting for the token's user."""
    return [
        {
            "revision_id": r.id,
            "document_number": r.document.number,
            "version": r.version,
            "title": r.title,
            "meaning": m.value,
        }
        for r, m in inbox_for(actor())["to_sign"]
    ]
