"""product versions: each version a product's uploads name, with its own UUID, active
flag and last upload (Dependency-Track's projects); a product's parent and tags

Revision ID: 0016
Revises: 0015
"""

import uuid

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs: on SQLite a batch would copy the products table, and dropping
    # the old copy fails while uploads reference it.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE products ADD COLUMN parent_id INTEGER REFERENCES products (id)")
    else:
        op.add_column("products", sa.Column("parent_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "products_parent_id_fkey", "products", "products", ["parent_id"], ["id"]
        )
    op.add_column(
        "products",
        sa.Column(
            "parent_version",
            sqlmodel.sql.sqltypes.AutoString(length=255),
            nullable=False,
            server_default="",
        ),
    )
    op.add_column(
        "products",
        sa.Column("tags", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    )
    op.create_index(op.f("ix_products_parent_id"), "products", ["parent_id"], unique=False)
    op.create_table(
        "product_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("uuid", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("is_latest", sa.Boolean(), nullable=False),
        sa.Column("sbom_id", sa.Integer(), nullable=True),
        sa.Column("last_bom_import", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"]),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"]),
        sa.ForeignKeyConstraint(["sbom_id"], ["sboms.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("product_id", "version"),
    )
    with op.batch_alter_table("product_versions", schema=None) as batch_op:
        for column in ("product_id", "company_id", "sbom_id"):
            batch_op.create_index(batch_op.f(f"ix_product_versions_{column}"), [column])
        batch_op.create_index(batch_op.f("ix_product_versions_uuid"), ["uuid"], unique=True)
    _record_existing_versions()


def _record_existing_versions() -> None:
    """One row per version the stored uploads name (the first keeps the product's UUID);
    a product without uploads gets its unnamed version, so every product has one. Times
    are copied in SQL, as stored."""
    connection = op.get_bind()
    products = connection.execute(sa.text("SELECT id, uuid FROM products")).fetchall()
    for product_id, product_uuid in products:
        uploads = connection.execute(
            sa.text(
                "SELECT COALESCE(project_version, ''), MAX(id) FROM sboms"
                " WHERE product_id = :product GROUP BY COALESCE(project_version, '')"
                " ORDER BY MIN(id)"
            ),
            {"product": product_id},
        ).fetchall()
        if not uploads:
            connection.execute(
                sa.text(
                    "INSERT INTO product_versions (product_id, company_id, uuid, version,"
                    " active, is_latest, created_at) SELECT id, company_id, uuid, '', :yes,"
                    " :no, created_at FROM products WHERE id = :product"
                ),
                {"product": product_id, "yes": True, "no": False},
            )
        for position, (version, sbom_id) in enumerate(uploads):
            connection.execute(
                sa.text(
                    "INSERT INTO product_versions (product_id, company_id, uuid, version,"
                    " active, is_latest, sbom_id, last_bom_import, created_at)"
                    " SELECT product_id, company_id, :uuid, :version, :yes, :no, id,"
                    " created_at, created_at FROM sboms WHERE id = :sbom"
                ),
                {
                    "uuid": product_uuid if position == 0 else str(uuid.uuid4()),
                    "version": version[:255],
                    "sbom": sbom_id,
                    "yes": True,
                    "no": False,
                },
            )


def downgrade() -> None:
    op.drop_table("product_versions")
    op.drop_index(op.f("ix_products_parent_id"), table_name="products")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_column("tags")
        batch_op.drop_column("parent_version")
        batch_op.drop_column("parent_id")
