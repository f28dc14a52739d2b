"""maven parent poms: a released parent POM is read once for every process

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "maven_parent_poms",
        sa.Column("coordinates", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("pom", sa.LargeBinary(), nullable=False),
        sa.Column("fetched_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("coordinates"),
    )


def downgrade() -> None:
    op.drop_table("maven_parent_poms")
