"""company links: what a company's SBOM asserts about a package's repository is kept per
company, out of the shared resolution

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "company_package_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"]),
        sa.ForeignKeyConstraint(["package_id"], ["packages.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id", "package_id"),
    )
    for column in ("company_id", "package_id", "project_id"):
        op.create_index(f"ix_company_package_links_{column}", "company_package_links", [column])
    # Shared resolutions that an SBOM hint decided spoke for every company: resolve them
    # again, which records each company's hints as its own links.
    op.execute(
        "UPDATE package_resolutions SET status = 'pending', project_id = NULL, "
        "source = NULL, next_attempt_at = NULL WHERE source = 'sbom'"
    )


def downgrade() -> None:
    for column in ("company_id", "package_id", "project_id"):
        op.drop_index(f"ix_company_package_links_{column}", table_name="company_package_links")
    op.drop_table("company_package_links")
