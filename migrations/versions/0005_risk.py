"""risk: per-company weights, dated score snapshots, current scores, exposure history

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "company_exposure_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("exposure", sa.Float(), nullable=False),
        sa.Column("covered_exposure", sa.Float(), nullable=False),
        sa.Column("coverage_share", sa.Float(), nullable=False),
        sa.Column("coverage_reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("unfunded_exposure", sa.Float(), nullable=False),
        sa.Column("projects", sa.Integer(), nullable=False),
        sa.Column("unscored_projects", sa.Integer(), nullable=False),
        sa.Column("computed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id", "taken_on"),
    )
    op.create_table(
        "project_risks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("coverage", sa.Float(), nullable=False),
        sa.Column("dependence", sa.Float(), nullable=False),
        sa.Column("exposure", sa.Float(), nullable=False),
        sa.Column("inputs_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id", "project_id"),
    )
    with op.batch_alter_table("project_risks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_project_risks_company_exposure", ["company_id", "exposure"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_project_risks_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "risk_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("coverage", sa.Float(), nullable=False),
        sa.Column("criticality", sa.Float(), nullable=True),
        sa.Column("dependence", sa.Float(), nullable=False),
        sa.Column("breakdown", sa.JSON(), nullable=False),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.Column("inputs_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("computed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id", "project_id", "taken_on"),
    )
    with op.batch_alter_table("risk_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_snapshots_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "risk_weights",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("weights", sa.JSON(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("company_id"),
    )


def downgrade() -> None:
    op.drop_table("risk_weights")
    with op.batch_alter_table("risk_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_snapshots_project_id"))

    op.drop_table("risk_snapshots")
    with op.batch_alter_table("project_risks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_risks_project_id"))
        batch_op.drop_index("ix_project_risks_company_exposure")

    op.drop_table("project_risks")
    op.drop_table("company_exposure_snapshots")
