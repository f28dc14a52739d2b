"""projects: resolution (projects, package links, metadata cache), people and claims

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metadata_cache",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("etag", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("last_modified", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("fetched_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "key"),
    )
    with op.batch_alter_table("metadata_cache", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_metadata_cache_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "outbound_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "source"),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("host", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("repository_url", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("homepage", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=True),
        sa.Column("pushed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("owner_type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("repo_status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("repo_error", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("repo_checked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_projects_key"), ["key"], unique=True)

    op.create_table(
        "funding_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("person_login", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("handle", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("found_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("funding_channels", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_funding_channels_person_login"), ["person_login"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_funding_channels_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "maintainers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("login", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("contributions", sa.Integer(), nullable=True),
        sa.Column("found_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("maintainers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_maintainers_project_id"), ["project_id"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("read_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_user_id"), ["user_id"], unique=False)

    op.create_table(
        "package_resolutions",
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("resolved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.PrimaryKeyConstraint("package_id"),
    )
    with op.batch_alter_table("package_resolutions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_package_resolutions_due", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_package_resolutions_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "payout_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("preferred", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "kind", "value"),
    )
    with op.batch_alter_table("payout_channels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payout_channels_user_id"), ["user_id"], unique=False)

    op.create_table(
        "project_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("evidence", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("evidence_detail", sa.JSON(), nullable=False),
        sa.Column("claimed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("verified_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("end_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("project_claims", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_project_claims_project_id"), ["project_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_project_claims_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_project_claims_user_id"), ["user_id"], unique=False)

    op.create_table(
        "split_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("proposed_by_id", sa.Integer(), nullable=False),
        sa.Column("shares", sa.JSON(), nullable=False),
        sa.Column("accepted_by", sa.JSON(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("split_proposals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_split_proposals_project_id"), ["project_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("split_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_split_proposals_project_id"))

    op.drop_table("split_proposals")
    with op.batch_alter_table("project_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_claims_user_id"))
        batch_op.drop_index(batch_op.f("ix_project_claims_status"))
        batch_op.drop_index(batch_op.f("ix_project_claims_project_id"))

    op.drop_table("project_claims")
    with op.batch_alter_table("payout_channels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payout_channels_user_id"))

    op.drop_table("payout_channels")
    with op.batch_alter_table("package_resolutions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_package_resolutions_project_id"))
        batch_op.drop_index("ix_package_resolutions_due")

    op.drop_table("package_resolutions")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_user_id"))

    op.drop_table("notifications")
    with op.batch_alter_table("maintainers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maintainers_project_id"))

    op.drop_table("maintainers")
    with op.batch_alter_table("funding_channels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_funding_channels_project_id"))
        batch_op.drop_index(batch_op.f("ix_funding_channels_person_login"))

    op.drop_table("funding_channels")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_projects_key"))

    op.drop_table("projects")
    op.drop_table("outbound_usage")
    with op.batch_alter_table("metadata_cache", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_metadata_cache_expires_at"))

    op.drop_table("metadata_cache")
