"""The auditor's workspace through the API: schedule, clause matrix, samples, evidence packs."""

from flask import send_file
from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from docmgmt import storage
from docmgmt.api.auth import api_user, require_token
from docmgmt.auth.permissions import can_read_history, require
from docmgmt.certification import operations as ops
from docmgmt.errors import NotFound
from docmgmt.extensions import db
from docmgmt.jobs.said import text_of
from docmgmt.records.models import RecordType

blp = Blueprint(
    "certification_api",
    __name__,
    url_prefix="/api/v1/certification",
    description="Clause-to-evidence matrix, record sampling, surveillance schedule, evidence packs",
)
blp.before_request(require_token)


class PeriodArgs(Schema):
    date_from = fields.Date(required=True, data_key="from")
    date_to = fields.Date(required=True, data_key="to")


class SampleArgs(PeriodArgs):
    type = fields.Str(required=True, metadata={"description": "record type code"})
    size = fields.Int(load_default=10, validate=validate.Range(1, ops.MAX_SAMPLE))
    seed = fields.Int(load_default=None, validate=validate.Range(0, 2**31 - 1))


class PackIn(Schema):
    date_from = fields.Date(required=True, data_key="from")
    date_to = fields.Date(required=True, data_key="to")
    sample_type = fields.Str(load_default=None)
    sample_size = fields.Int(load_default=0)
    sample_seed = fields.Int(load_default=None)


class PackOut(Schema):
    id = fields.Int()
    period_from = fields.Date()
    period_to = fields.Date()
    status = fields.Str()
    files = fields.Int()
    sha256 = fields.Str()
    size = fields.Int()
    sample_seed = fields.Int(allow_none=True)
    message = fields.Function(
        lambda row: text_of(row),
        metadata={"type": "string", "description": "in the caller's language when it can be"},
    )


def _type(code) -> RecordType:
    rt = db.session.query(RecordType).filter_by(code=code).one_or_none()
    if rt is None:
        raise NotFound(_("No such record type."))
    return rt


@blp.get("/schedule")
def schedule():
    require(can_read_history(api_user()))
    cert = ops.current_certificate()
    if cert is None:
        return {"certificate": None}
    s = ops.schedule(cert)
    return {
        "certificate": {
            "number": cert.number,
            "body": cert.body,
            "issued_on": cert.issued_on.isoformat(),
            "expires_on": cert.expires_on.isoformat(),
        },
        "audits": [{"held_on": a.held_on.isoformat(), "kind": a.kind} for a in cert.audits],
        "extensions": [
            {"granted_on": e.granted_on.isoformat(), "months": e.months, "reason": e.reason}
            for e in cert.extensions
        ],
        "last_audit": s["last"].isoformat(),
        "next_due": s["due"].isoformat(),
        "next_audit_kind": s["kind"],
        "warning": s["warning"],
        "status": s["status"],
        "days_left": s["days_left"],
    }


@blp.get("/clauses")
@blp.arguments(PeriodArgs, location="query")
def clauses(args):
    require(can_read_history(api_user()))
    rows = ops.clause_matrix(args["date_from"], args["date_to"], api_user())
    return {
        "clauses": [
            {
                "clause": r["clause"],
                "title": r["zh"],
                "gap": r["gap"],
                "documents": [
                    {
                        "number": d["document"].number,
                        "version_in_force": d["revision"].version if d["revision"] else None,
                        "trained": d["trained"],
                        "to_train": d["to_train"],
                    }
                    for d in r["documents"]
                ],
                "record_types": [
                    {"code": t["type"].code, "records": t["records"]} for t in r["types"]
                ],
            }
            for r in rows
        ]
    }


@blp.get("/sample")
@blp.arguments(SampleArgs, location="query")
def sample(args):
    seed, population, records = ops.sample(
        api_user(),
        _type(args["type"]),
        args["date_from"],
        args["date_to"],
        args["size"],
        args["seed"],
    )
    from docmgmt.extract import recognition
    from docmgmt.extract.reasons import reason_of

    texts = recognition.texts_of_records([r.id for r in records])
    return {
        "seed": seed,
        "population": population,
        "records": [
            {
                "id": r.id,
                "number": r.number,
                "title": r.title,
                "attachments": [
                    {
                        "filename": t.filename,
                        "text_state": t.state,
                        "text_reason": reason_of(t),
                        "text": t.text,
                    }
                    for t in texts.get(r.id, ())
                ],
            }
            for r in records
        ],
    }


@blp.post("/packs")
@blp.arguments(PackIn)
@blp.response(201, PackOut)
def request_pack(data):
    """Build an evidence pack for the period (synchronously through the API)."""
    pack = ops.request_pack(
        api_user(),
        data["date_from"],
        data["date_to"],
        sample_type=_type(data["sample_type"]) if data["sample_type"] else None,
        sample_size=data["sample_size"],
        sample_seed=data["sample_seed"],
    )
    db.session.commit()
    ops.run_pack(pack, api_user())
    db.session.commit()
    return pack


@blp.get("/packs/<int:pack_id>")
@blp.response(200, PackOut)
def get_pack(pack_id):
    require(can_read_history(api_user()))
    return ops.get_pack(pack_id, api_user())


@blp.get("/packs/<int:pack_id>/evidence.zip")
def download(pack_id):
    require(can_read_history(api_user()))
    p = ops.get_pack(pack_id, api_user())
    if p.status != "done" or not storage.exists(p.sha256):
        raise NotFound(_("Not found."))
    return send_file(
        storage.blob_path(p.sha256), mimetype="application/zip", download_name="evidence.zip"
    )
