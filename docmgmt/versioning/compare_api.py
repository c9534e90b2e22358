"""The comparison of two revisions in the API: the numbered changes as JSON, the change report
as PDF. The same rule as the page decides who may compare
(:func:`docmgmt.auth.permissions.can_compare`)."""

from io import BytesIO

from flask import send_file
from flask_babel import gettext as _
from marshmallow import Schema, fields

from docmgmt.api import blp
from docmgmt.api.auth import api_user
from docmgmt.auth.permissions import can_compare, require
from docmgmt.errors import ValidationFailed
from docmgmt.extensions import db
from docmgmt.versioning import compare as cmp
from docmgmt.versioning import queries
from docmgmt.versioning.api import _get_rev


class CompareQuerySchema(Schema):
    base = fields.Int(
        load_default=None,
        metadata={"description": "The revision to compare with; default: the one in force"},
    )


class SegmentSchema(Schema):
    op = fields.Str(metadata={"description": "= stays, - removed, + added"})
    text = fields.Str()


class ChangeSchema(Schema):
    number = fields.Int()
    kind = fields.Str(metadata={"description": "changed, added, removed or moved"})
    what = fields.Str(metadata={"description": "heading, paragraph, list item, table row, ..."})
    where = fields.Str(metadata={"description": "The heading the change is under"})
    old = fields.List(fields.Nested(SegmentSchema))
    new = fields.List(fields.Nested(SegmentSchema))
    formatting_only = fields.Bool(
        metadata={"description": "The same words in other formats (bold, italic, underline)"}
    )


class ComparedRevisionSchema(Schema):
    id = fields.Int()
    version = fields.Str()
    state = fields.Str()


class ComparisonSchema(Schema):
    document_id = fields.Int()
    base = fields.Nested(ComparedRevisionSchema)
    revision = fields.Nested(ComparedRevisionSchema)
    count = fields.Int()
    counts = fields.Dict(keys=fields.Str(), values=fields.Int())
    changes = fields.List(fields.Nested(ChangeSchema))


def _pair(rev_id, base_id):
    rev = _get_rev(rev_id)
    if base_id is None:
        base = queries.in_force_revision(rev.document)
        if base is None or base.id == rev.id:
            raise ValidationFailed(
                _(
                    "Name the revision to compare with (base): %(n)s has no other revision "
                    "in force.",
                    n=rev.document.number,
                ),
                field="base",
            )
    else:
        base = _get_rev(base_id)
        if base.document_id != rev.document_id:
            raise ValidationFailed(
                _("The revision to compare with (base) must be of the same document."),
                field="base",
            )
    require(
        can_compare(api_user(), base, rev),
        _(
            "Only quality managers, auditors and the reviewer and approver of a revision can "
            "compare revisions."
        ),
    )
    return base, rev


def _side(r):
    return {"id": r.id, "version": r.version, "state": r.state.value}


@blp.get("/revisions/<int:rev_id>/compare")
@blp.arguments(CompareQuerySchema, location="query")
@blp.response(200, ComparisonSchema)
def compare_revision(args, rev_id):
    """The changes from another revision (default: the one in force) to this one, numbered as
    on the comparison page: what kind, where, and the old and new text as segments."""
    base, rev = _pair(rev_id, args["base"])
    result = cmp.compare(base.body_blocks or [], rev.body_blocks or [])
    return {
        "document_id": rev.document_id,
        "base": _side(base),
        "revision": _side(rev),
        "count": result.count,
        "counts": result.counts(),
        "changes": [
            {
                "number": c.number,
                "kind": c.kind,
                "what": c.what,
                "where": c.where,
                "old": [{"op": op, "text": t} for op, t in c.old],
                "new": [{"op": op, "text": t} for op, t in c.new],
                "formatting_only": c.formatting,
            }
            for c in result.changes
        ],
    }


@blp.get("/revisions/<int:rev_id>/compare.pdf")
@blp.arguments(CompareQuerySchema, location="query")
@blp.response(200, description="The change report (文件变更报告) as PDF")
def compare_revision_pdf(args, rev_id):
    """The PDF change report of the comparison, for the record."""
    from docmgmt.printing.change_report import report_for

    base, rev = _pair(rev_id, args["base"])
    data = report_for(api_user(), base, rev)
    db.session.commit()  # the download's audit event
    name = f"{rev.document.number}-{base.version}-{rev.version}-change-report.pdf"
    return send_file(BytesIO(data), mimetype="application/pdf", download_name=name)
