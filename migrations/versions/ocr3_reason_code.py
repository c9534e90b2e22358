"""attachment text: why no text was read as a code and its parameters, translated when shown

Revision ID: ocr3_reason_code
Revises: queue2_pending_notice
Create Date: 2026-12-02 13:40:00

Rows read before keep their reason as stored text (``reason``), which is shown as it is.
"""

import sqlalchemy as sa
from alembic import op

revision = "ocr3_reason_code"
down_revision = "queue2_pending_notice"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("attachment_text") as batch:
        batch.add_column(
            sa.Column("reason_code", sa.String(length=40), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("reason_params", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("attachment_text") as batch:
        batch.drop_column("reason_params")
        batch.drop_column("reason_code")
