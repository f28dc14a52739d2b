"""sboms: products, their SBOMs and components, shared packages, Dependency-Track tokens

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 10:47:59.470682
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "packages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("ecosystem", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_packages_key"), ["key"], unique=True)

    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("uuid", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id", "name"),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_products_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_uuid"), ["uuid"], unique=True)

    op.create_table(
        "sboms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("content_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("format", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("spec_version", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("encoding", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("project_version", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("uploaded_by_user_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_by_token_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("component_count", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("diff", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"]),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"]),
        sa.ForeignKeyConstraint(["uploaded_by_token_id"], ["api_tokens.id"]),
        sa.ForeignKeyConstraint(["uploaded_by_user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("product_id", "content_sha256"),
    )
    with op.batch_alter_table("sboms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sboms_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sboms_product_id"), ["product_id"], unique=False)

    op.create_table(
        "bom_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("sbom_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"]),
        sa.ForeignKeyConstraint(["sbom_id"], ["sboms.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("bom_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bom_tokens_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bom_tokens_sbom_id"), ["sbom_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bom_tokens_uuid"), ["uuid"], unique=True)

    op.create_table(
        "sbom_components",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sbom_id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("purl", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("depth", sa.Integer(), nullable=True),
        sa.Column("identity", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("hints", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["package_id"], ["packages.id"]),
        sa.ForeignKeyConstraint(["sbom_id"], ["sboms.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sbom_components", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sbom_components_package_id"), ["package_id"], unique=False
        )
        batch_op.create_index(
            "ix_sbom_components_sbom_id_package_id", ["sbom_id", "package_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sbom_components", schema=None) as batch_op:
        batch_op.drop_index("ix_sbom_components_sbom_id_package_id")
        batch_op.drop_index(batch_op.f("ix_sbom_components_package_id"))
    op.drop_table("sbom_components")

    with op.batch_alter_table("bom_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bom_tokens_uuid"))
        batch_op.drop_index(batch_op.f("ix_bom_tokens_sbom_id"))
        batch_op.drop_index(batch_op.f("ix_bom_tokens_company_id"))
    op.drop_table("bom_tokens")

    with op.batch_alter_table("sboms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sboms_product_id"))
        batch_op.drop_index(batch_op.f("ix_sboms_company_id"))
    op.drop_table("sboms")

    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_uuid"))
        batch_op.drop_index(batch_op.f("ix_products_company_id"))
    op.drop_table("products")

    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_packages_key"))
    op.drop_table("packages")
