"""pledges: one per company, project, period and source, with a state, a due date, the
channels at approval time; payments against them; each company's pledge settings

The old pledges (one per company and project, following the latest approval) become the
pledge of the period that set them: ``ended`` ones cancelled, the others pledged.

Revision ID: 0008
Revises: 0007
"""

import calendar
from datetime import UTC, date, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

DUE_DAY = 15


def _due(period: str) -> date:
    year, month = int(period[:4]), int(period[5:7])
    year, month = year + month // 12, month % 12 + 1
    return date(year, month, min(DUE_DAY, calendar.monthrange(year, month)[1]))


def upgrade() -> None:
    connection = op.get_bind()
    old = connection.execute(
        sa.text(
            "SELECT company_id, project_id, amount_minor, currency, status, from_period, "
            "proposal_id, created_at, status_reason FROM pledges"
        ).columns(created_at=sqlmodel.sql.sqltypes.UTCDateTime())
    ).all()
    with op.batch_alter_table("pledges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pledges_project_id"))
    op.drop_table("pledges")
    pledges = op.create_table(
        "pledges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("recurrence", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("repeats_id", sa.Integer(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("exported_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("cancel_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"]),
        sa.ForeignKeyConstraint(["repeats_id"], ["pledges.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id", "project_id", "period", "source"),
    )
    with op.batch_alter_table("pledges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pledges_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pledges_state"), ["state"], unique=False)
    now = datetime.now(UTC)  # migration bookkeeping, not domain time
    op.bulk_insert(
        pledges,
        [
            {
                "company_id": row.company_id,
                "project_id": row.project_id,
                "period": row.from_period,
                "amount_minor": row.amount_minor,
                "currency": row.currency,
                "paid_minor": 0,
                "state": "cancelled" if row.status == "ended" else "pledged",
                "source": "proposal",
                "recurrence": "once",
                "proposal_id": row.proposal_id,
                "due_on": _due(row.from_period),
                "channels": {},
                "cancel_reason": row.status_reason if row.status == "ended" else None,
                "created_at": row.created_at,
                "updated_at": now,
            }
            for row in old
        ],
    )
    op.create_table(
        "pledge_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("overpayment", sa.Boolean(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"]),
        sa.ForeignKeyConstraint(["pledge_id"], ["pledges.id"]),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pledge_payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pledge_payments_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pledge_payments_pledge_id"), ["pledge_id"], unique=False
        )
    op.create_table(
        "pledge_settings",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("due_day", sa.Integer(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"]),
        sa.PrimaryKeyConstraint("company_id"),
    )


def downgrade() -> None:
    op.drop_table("pledge_settings")
    with op.batch_alter_table("pledge_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pledge_payments_pledge_id"))
        batch_op.drop_index(batch_op.f("ix_pledge_payments_company_id"))
    op.drop_table("pledge_payments")
    connection = op.get_bind()
    # Back to one pledge per company and project: the latest period's wins.
    rows = connection.execute(
        sa.text(
            "SELECT company_id, project_id, amount_minor, currency, state, period, "
            "proposal_id, created_at, cancel_reason FROM pledges "
            "WHERE source = 'proposal' ORDER BY period"
        ).columns(created_at=sqlmodel.sql.sqltypes.UTCDateTime())
    ).all()
    latest = {(r.company_id, r.project_id): r for r in rows}
    with op.batch_alter_table("pledges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pledges_state"))
        batch_op.drop_index(batch_op.f("ix_pledges_project_id"))
    op.drop_table("pledges")
    pledges = op.create_table(
        "pledges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("from_period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("status_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id", "project_id"),
    )
    with op.batch_alter_table("pledges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pledges_project_id"), ["project_id"], unique=False)
    now = datetime.now(UTC)  # migration bookkeeping, not domain time
    op.bulk_insert(
        pledges,
        [
            {
                "company_id": r.company_id,
                "project_id": r.project_id,
                "amount_minor": r.amount_minor,
                "currency": r.currency,
                "status": "ended" if r.state == "cancelled" else "active",
                "from_period": r.period,
                "proposal_id": r.proposal_id,
                "created_at": r.created_at,
                "updated_at": now,
                "status_reason": r.cancel_reason,
            }
            for r in latest.values()
        ],
    )
