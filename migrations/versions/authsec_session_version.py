"""auth: a session version per user, so log-out, a new password and deactivation end every
session and remember-me cookie issued before

Revision ID: authsec_session_version
Revises: b9c1d3e5f7aa
Create Date: 2026-12-02 06:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "authsec_session_version"
down_revision = "b9c1d3e5f7aa"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("session_version")
