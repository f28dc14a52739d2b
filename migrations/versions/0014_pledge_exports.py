"""pledge exports (who, when, checksum, what was left out); maintainers' own minimum per
payout channel; receipts imports, their rows and each company's column mappings; a
company may appear to maintainers as "anonymous company"

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0014"
down_revision = "0013"
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
    with op.batch_alter_table("pledge_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("anonymous", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "receipt_mappings",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("preset", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"]),
        sa.PrimaryKeyConstraint("company_id", "preset"),
    )
    op.create_table(
        "receipt_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("preset", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("encoding", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("done_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("receipt_imports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_receipt_imports_company_id"), ["company_id"], unique=False
        )
    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("account", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"]),
        sa.ForeignKeyConstraint(["import_id"], ["receipt_imports.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id", "fingerprint"),
    )
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_receipts_import_id"), ["import_id"], unique=False)
    with op.batch_alter_table("pledge_payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("receipt_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_pledge_payments_receipt_id_receipts", "receipts", ["receipt_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("pledge_payments", schema=None) as batch_op:
        batch_op.drop_constraint("fk_pledge_payments_receipt_id_receipts", type_="foreignkey")
        batch_op.drop_column("receipt_id")
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receipts_import_id"))
    op.drop_table("receipts")
    with op.batch_alter_table("receipt_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receipt_imports_company_id"))
    op.drop_table("receipt_imports")
    op.drop_table("receipt_mappings")
    with op.batch_alter_table("pledge_settings", schema=None) as batch_op:
        batch_op.drop_column("anonymous")
    with op.batch_alter_table("payout_channels", schema=None) as batch_op:
        batch_op.drop_column("minimum_minor")
    with op.batch_alter_table("pledge_exports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pledge_exports_company_id"))
    op.drop_table("pledge_exports")
