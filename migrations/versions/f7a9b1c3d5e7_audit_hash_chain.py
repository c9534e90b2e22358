"""audit: a hash chain over the audit trail (seq, prev_hash, hash), filled for existing events

Revision ID: f7a9b1c3d5e7
Revises: e6f8a0b2c4d6
Create Date: 2026-11-25 21:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "f7a9b1c3d5e7"
down_revision = "e6f8a0b2c4d6"
branch_labels = None
depends_on = None


def upgrade():
    from docmgmt.audit.chain import GENESIS, event_hash

    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    t = sa.table(
        "audit_event",
        *(sa.column(c) for c in ("id", "seq", "prev_hash", "hash", "occurred_dt", "actor_id",
                                 "actor_name", "action", "object_type", "object_id", "summary",
                                 "ip_address")),
        sa.column("before", sa.JSON()),
        sa.column("after", sa.JSON()),
    )
    prev = GENESIS
    rows = conn.execute(sa.select(t).order_by(t.c.id)).mappings().all()
    for seq, r in enumerate(rows, start=1):
        occurred = r["occurred_dt"]
        if isinstance(occurred, str):
            from datetime import datetime

            occurred = datetime.fromisoformat(occurred)
        h = event_hash(seq, prev, occurred, r["actor_id"], r["actor_name"], r["action"],
                       r["object_type"], r["object_id"], r["summary"], r["before"], r["after"],
                       r["ip_address"])
        conn.execute(t.update().where(t.c.id == r["id"]).values(seq=seq, prev_hash=prev, hash=h))
        prev = h
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_event_seq"), ["seq"])


def downgrade():
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_event_seq"), type_="unique")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")
