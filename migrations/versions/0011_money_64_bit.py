"""money 64-bit: every minor-units column is a BIGINT (budgets above 21,474,836.47)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

MONEY_COLUMNS = {
    "companies": ["monthly_budget_minor"],
    "proposals": [
        "budget_minor",
        "paid_minor",
        "held_minor",
        "remainder_minor",
        "cap_minor",
        "minimum_minor",
    ],
    "proposal_lines": ["amount_minor"],
}  # pledges and payments were made 64-bit with the pledge lifecycle (0008)


def _alter(to_type, from_type) -> None:
    for table, columns in MONEY_COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, type_=to_type, existing_type=from_type)


def upgrade() -> None:
    _alter(sa.BigInteger(), sa.Integer())


def downgrade() -> None:
    _alter(sa.Integer(), sa.BigInteger())
