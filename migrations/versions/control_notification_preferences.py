"""control: per-person mail preferences and the daily notices already given

Revision ID: control_notification_preferences
Revises: control_revision_change_requests
Create Date: 2026-12-02 07:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "control_notification_preferences"
down_revision = "control_revision_change_requests"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notification_preference",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=30), nullable=False),
        sa.Column("delivery", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "event"),
    )
    op.create_table(
        "notice_sent",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("sent_dt", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade():
    op.drop_table("notice_sent")
    op.drop_table("notification_preference")
