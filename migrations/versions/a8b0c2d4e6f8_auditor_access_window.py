"""auth: auditors' access start and department limits

Revision ID: a8b0c2d4e6f8
Revises: f7a9b1c3d5e7
Create Date: 2026-11-25 21:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "a8b0c2d4e6f8"
down_revision = "f7a9b1c3d5e7"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("access_starts_dt", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("audit_departments", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("audit_departments")
        batch_op.drop_column("access_starts_dt")
