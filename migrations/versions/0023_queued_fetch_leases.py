"""queued fetch leases: a lookup leased for a batch that is not asked yet, which another
run may take into a batch of its own (so runs together fill batches as one run does)

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("fetch_leases") as batch:
        batch.add_column(
            sa.Column("queued", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("fetch_leases") as batch:
        batch.drop_column("queued")
