"""Marshmallow schemas shared by every part of the API (each feature keeps its own)."""

from marshmallow import Schema, fields


class ErrorSchema(Schema):
    status = fields.Int()
    message = fields.Str()
    field = fields.Str()
