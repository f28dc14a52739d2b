"""jobs: leased tasks with database-enforced unique keys; the scheduler's lease and the
last fire time of each periodic job (APScheduler's job store is no longer used)

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

PENDING = sa.text("status IN ('queued', 'running')")


def upgrade() -> None:
    # Keys queued twice before the database enforced them: the oldest task does the work.
    op.execute(
        "UPDATE tasks SET status = 'done', last_error = 'duplicate of an older task with its key'"
        " WHERE unique_key IS NOT NULL AND status IN ('queued', 'running') AND id NOT IN"
        " (SELECT MIN(id) FROM tasks WHERE unique_key IS NOT NULL"
        " AND status IN ('queued', 'running') GROUP BY unique_key)"
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("worker", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch_op.add_column(
            sa.Column("lease_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.create_index(
            "uq_tasks_pending_key",
            ["unique_key"],
            unique=True,
            postgresql_where=PENDING,
            sqlite_where=PENDING,
        )
    op.create_table(
        "scheduler_lease",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("lease_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "periodic_runs",
        sa.Column("job_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("last_fire_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("job_id"),
    )
    op.drop_table("apscheduler_jobs")


def downgrade() -> None:
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(191), primary_key=True),
        sa.Column("next_run_time", sa.Float(25), index=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
    )
    op.drop_table("periodic_runs")
    op.drop_table("scheduler_lease")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("uq_tasks_pending_key")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("worker")
