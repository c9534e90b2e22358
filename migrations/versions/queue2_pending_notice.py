"""pending_notice: notices kept for a person's daily digest (they chose "in the daily digest"
for that kind of event)

Revision ID: queue2_pending_notice
Revises: starter2_certification_plan
Create Date: 2026-12-02 13:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "queue2_pending_notice"
down_revision = "starter2_certification_plan"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pending_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=30), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("created_dt", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_pending_notice_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_notice")),
    )
    op.create_index(op.f("ix_pending_notice_user_id"), "pending_notice", ["user_id"], unique=False)


def downgrade():
    op.drop_table("pending_notice")
