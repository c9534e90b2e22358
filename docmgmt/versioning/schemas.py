"""Marshmallow schemas of the documents and revisions API: what goes in and what comes out."""

from marshmallow import Schema, fields, validate

DOC_TYPES = ["manual", "procedure", "work_instruction", "record_form", "external"]


class InForceSchema(Schema):
    revision_id = fields.Int()
    version = fields.Str()
    effective_date = fields.Date()


class DocumentSchema(Schema):
    id = fields.Int(dump_only=True)
    number = fields.Str()
    title = fields.Str()
    doc_type = fields.Str()
    department = fields.Str(allow_none=True)
    review_interval_months = fields.Int()
    is_obsolete = fields.Bool()
    external_edition = fields.Str()
    external_source = fields.Str()
    next_review = fields.Date(allow_none=True)
    in_force = fields.Nested(InForceSchema, allow_none=True)


class DocumentQuerySchema(Schema):
    type = fields.Str(validate=validate.OneOf(DOC_TYPES))
    department = fields.Str()
    q = fields.Str(validate=validate.Length(max=200))
    include_obsolete = fields.Bool(load_default=False)


class DocumentCreateSchema(Schema):
    title = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    doc_type = fields.Str(required=True, validate=validate.OneOf(DOC_TYPES))
    department = fields.Str(load_default=None, metadata={"description": "Department code"})
    number = fields.Str(load_default=None, validate=validate.Length(max=40))
    review_interval_months = fields.Int(load_default=None, validate=validate.Range(1, 120))
    external_edition = fields.Str(load_default="", validate=validate.Length(max=100))
    external_source = fields.Str(load_default="", validate=validate.Length(max=200))


class SignatureSchema(Schema):
    id = fields.Int()
    meaning = fields.Str()
    signer_name = fields.Str()
    user_id = fields.Int()
    signed_dt = fields.DateTime()
    content_hash = fields.Str()
    submission_round = fields.Int()
    comment = fields.Str()


class RevisionSummarySchema(Schema):
    id = fields.Int()
    document_id = fields.Int()
    document_number = fields.Str()
    version = fields.Str()
    state = fields.Str()
    title = fields.Str()
    change_summary = fields.Str()
    change_number = fields.Str()
    change_reference = fields.Str()
    change_requests = fields.List(fields.Str())
    pages_affected = fields.Str()
    effective_date = fields.Date(allow_none=True)
    superseded_date = fields.Date(allow_none=True)
    reviewer_id = fields.Int(allow_none=True)
    approver_id = fields.Int(allow_none=True)


class RevisionSchema(RevisionSummarySchema):
    body_markdown = fields.Str()
    blocks = fields.List(fields.Dict())
    content_hash = fields.Str(allow_none=True)
    signatures = fields.List(fields.Nested(SignatureSchema))


class DraftCreateSchema(Schema):
    reedition = fields.Bool(load_default=False)
    version = fields.Str(load_default=None, validate=validate.Length(max=4))
    title = fields.Str(load_default=None, validate=validate.Length(max=200))
    body_markdown = fields.Str(load_default=None, validate=validate.Length(max=500_000))
    blocks = fields.List(fields.Dict(), load_default=None)
    change_summary = fields.Str(load_default="", validate=validate.Length(max=2000))
    change_number = fields.Str(load_default="", validate=validate.Length(max=40))
    pages_affected = fields.Str(load_default="", validate=validate.Length(max=40))


class DraftUpdateSchema(Schema):
    title = fields.Str(validate=validate.Length(min=1, max=200))
    body_markdown = fields.Str(validate=validate.Length(max=500_000))
    blocks = fields.List(fields.Dict())
    change_summary = fields.Str(validate=validate.Length(max=2000))
    change_number = fields.Str(validate=validate.Length(max=40))
    pages_affected = fields.Str(validate=validate.Length(max=40))


class SubmitSchema(Schema):
    reviewer_id = fields.Int(required=True)
    approver_id = fields.Int(required=True)
    password = fields.Str(required=True, load_only=True)
    # Send a revision that still holds placeholders 【待填写：…】 anyway.
    allow_placeholders = fields.Bool(load_default=False)


class SignSchema(Schema):
    meaning = fields.Str(required=True, validate=validate.OneOf(["reviewed", "approved"]))
    password = fields.Str(required=True, load_only=True)
    comment = fields.Str(load_default="", validate=validate.Length(max=2000))


class CommentSchema(Schema):
    comment = fields.Str(required=True, validate=validate.Length(min=1, max=2000))


class ReasonSchema(Schema):
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=2000))


class PublishSchema(Schema):
    effective_date = fields.Date(required=True)


class RecordRowSchema(Schema):
    no = fields.Int()
    date = fields.Date(allow_none=True)
    change_number = fields.Str()
    change_requests = fields.List(fields.Str())
    change_summary = fields.Str()
    version = fields.Str()
    pages_affected = fields.Str()
    prepared_by = fields.Str(allow_none=True)
    reviewed_by = fields.Str(allow_none=True)
    approved_by = fields.Str(allow_none=True)
