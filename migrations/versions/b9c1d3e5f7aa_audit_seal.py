"""audit seal: the chain's newest event sealed with a key outside the database

Revision ID: b9c1d3e5f7aa
Revises: b9c1d3e5f7a9
Create Date: 2026-12-02

"""

import hashlib
import hmac

import sqlalchemy as sa
from alembic import op

revision = "b9c1d3e5f7aa"
down_revision = "b9c1d3e5f7a9"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def _mac(key: str, seq: int, digest: str) -> str:
    message = f"docmgmt-audit-seal:{seq}:{digest}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def upgrade():
    seal = op.create_table(
        "audit_seal",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.Column("sealed_dt", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_seal")),
    )
    # Seal the chain as it stands, with the running app's key (Flask-Migrate runs migrations
    # inside the app context).
    from flask import current_app

    key = current_app.config.get("AUDIT_KEY") or current_app.config["SECRET_KEY"]
    last = (
        op.get_bind()
        .execute(sa.text("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1"))
        .first()
    )
    seq, digest = (last[0], last[1]) if last else (0, GENESIS)
    op.bulk_insert(seal, [{"id": 1, "seq": seq, "hash": digest, "mac": _mac(key, seq, digest)}])


def downgrade():
    op.drop_table("audit_seal")
