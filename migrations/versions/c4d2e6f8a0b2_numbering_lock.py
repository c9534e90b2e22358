"""versioning: a lock row per number stem, so concurrent registrations get distinct numbers

Revision ID: c4d2e6f8a0b2
Revises: c4d2e6f8a0b1
Create Date: 2026-11-25 21:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c4d2e6f8a0b2"
down_revision = "c4d2e6f8a0b1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "numbering_lock",
        sa.Column("stem", sa.String(length=40), nullable=False),
        sa.Column("taken", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("stem", name=op.f("pk_numbering_lock")),
    )


def downgrade():
    op.drop_table("numbering_lock")
