"""jobs: a job's message kept as a msgid and its parameters, said in the reader's language

Revision ID: jobs_message_said
Revises: ocr3_reason_code
"""

import sqlalchemy as sa
from alembic import op

revision = "jobs_message_said"
down_revision = "ocr3_reason_code"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("job") as batch:
        batch.add_column(sa.Column("message_id", sa.String(300), nullable=False, server_default=""))
        batch.add_column(sa.Column("message_params", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("job") as batch:
        batch.drop_column("message_params")
        batch.drop_column("message_id")
