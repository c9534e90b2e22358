"""ldap: accounts from the company directory (LDAP / Active Directory)

Revision ID: ldap_directory_accounts
Revises: control_notification_preferences
Create Date: 2026-12-02 07:35:00

"""

import sqlalchemy as sa
from alembic import op

revision = "ldap_directory_accounts"
down_revision = "control_notification_preferences"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user") as batch:
        batch.add_column(
            sa.Column("auth_source", sa.String(length=10), nullable=False, server_default="local")
        )
        batch.add_column(sa.Column("directory_dn", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("directory_groups", sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column("directory_synced_dt", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("user") as batch:
        batch.drop_column("directory_synced_dt")
        batch.drop_column("directory_groups")
        batch.drop_column("directory_dn")
        batch.drop_column("auth_source")
