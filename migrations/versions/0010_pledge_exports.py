"""pledge exports (who, when, checksum, what was left out); maintainers' own minimum per
payout channel

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pledge_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("checksum", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("left_out", sa.JSON(), nullable=False),
        sa.Column("pledge_ids", sa.JSON(), nullable=False),
        sa.Column("made_by_id", sa.Integer(), nullable=True),
        sa.Column("made_by_label", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"]),
        sa.ForeignKeyConstraint(["made_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pledge_exports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pledge_exports_company_id"), ["company_id"], unique=False
        )
    with op.batch_alter_table("payout_channels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("minimum_minor", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payout_channels", schema=None) as batch_op:
        batch_op.drop_column("minimum_minor")
    with op.batch_alter_table("pledge_exports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pledge_exports_company_id"))
    op.drop_table("pledge_exports")
