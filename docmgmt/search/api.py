"""Search through the API: the same query, filters, roles and pages as the search page."""

from flask import url_for
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from docmgmt.api.auth import api_user, require_token
from docmgmt.search.service import Filters, search
from docmgmt.search.sources import hit_url

blp = Blueprint("search_api", __name__, url_prefix="/api/v1", description="Full-text search")
blp.before_request(require_token)


class SearchQuerySchema(Schema):
    q = fields.Str(load_default="", validate=validate.Length(max=10000))
    kind = fields.Str(load_default="", validate=validate.Length(max=40))
    type = fields.Str(load_default="", validate=validate.Length(max=40))
    department = fields.Str(load_default="", validate=validate.Length(max=40))
    state = fields.Str(load_default="", validate=validate.Length(max=40))
    date_from = fields.Date(load_default=None)
    date_to = fields.Date(load_default=None)
    history = fields.Bool(load_default=False)
    sort = fields.Str(load_default="relevance", validate=validate.OneOf(["relevance", "date"]))
    page = fields.Int(load_default=1, validate=validate.Range(min=1, max=100))
    per_page = fields.Int(load_default=10, validate=validate.Range(min=1, max=50))


class HitSchema(Schema):
    key = fields.Str()
    kind = fields.Str()
    number = fields.Str()
    title = fields.Str()
    version = fields.Str(allow_none=True)
    state = fields.Str()
    doc_type = fields.Str()
    department = fields.Str()
    date = fields.Date(allow_none=True)
    score = fields.Float()
    fragment_html = fields.Str(metadata={"description": "Escaped text with <mark> around matches"})
    attachment = fields.Str(
        metadata={
            "description": "The attachment whose recognised text matched (records, "
            "training sessions, change requests)"
        }
    )
    url = fields.Str(allow_none=True)
    api_url = fields.Str(allow_none=True)


class SearchResultSchema(Schema):
    q = fields.Str()
    total = fields.Int()
    exact = fields.Bool(metadata={"description": "False: more match; only the newest were ranked"})
    page = fields.Int()
    pages = fields.Int()
    per_page = fields.Int()
    sort = fields.Str()
    notes = fields.List(fields.Str())
    facets = fields.Dict(
        keys=fields.Str(), values=fields.Dict(keys=fields.Str(), values=fields.Int())
    )
    hits = fields.List(fields.Nested(HitSchema))


@blp.get("/search")
@blp.arguments(SearchQuerySchema, location="query")
@blp.response(200, SearchResultSchema)
def search_endpoint(args):
    """Search documents (and, as they arrive, records and training) as the caller may see them.

    Words are ANDed; "quoted text" must appear as written; -word excludes; number:, title: and
    content: restrict a word to a field. Staff see revisions in force only; quality managers and
    auditors may pass history=true."""
    if args["date_from"] and args["date_to"] and args["date_to"] < args["date_from"]:
        from flask_babel import gettext as _

        from docmgmt.errors import ValidationFailed

        raise ValidationFailed(_("The end date is before the start date."))
    f = Filters(
        kind=args["kind"],
        doc_type=args["type"],
        department=args["department"],
        state=args["state"],
        date_from=args["date_from"],
        date_to=args["date_to"],
        history=args["history"],
    )
    page = search(
        api_user(), args["q"], f, sort=args["sort"], page=args["page"], per_page=args["per_page"]
    )
    hits = []
    for h in page.hits:
        api = None
        if h.kind == "revision":
            api = url_for("api.get_revision", rev_id=h.meta["revision_id"])
        hits.append(
            {
                "key": h.key,
                "kind": h.kind,
                "number": h.number,
                "title": h.title,
                "version": h.meta.get("version"),
                "state": h.state,
                "doc_type": h.doc_type,
                "department": h.department,
                "date": h.date,
                "score": h.score,
                "fragment_html": str(h.fragment),
                "attachment": h.attachment,
                "url": hit_url(h),
                "api_url": api,
            }
        )
    return {
        "q": page.text,
        "total": page.total,
        "exact": page.exact,
        "page": page.page,
        "pages": page.pages,
        "per_page": page.per_page,
        "sort": page.sort,
        "notes": page.notes,
        "facets": page.facets,
        "hits": hits,
    }
