"""search: the outbox of committed changes waiting for the index

Revision ID: c4d2e6f8a0b1
Revises: b3c0a1d2e3f4
Create Date: 2026-11-25 21:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c4d2e6f8a0b1"
down_revision = "b3c0a1d2e3f4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "search_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group", sa.String(length=60), nullable=False),
        sa.Column("queued_dt", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_outbox")),
    )


def downgrade():
    op.drop_table("search_outbox")
