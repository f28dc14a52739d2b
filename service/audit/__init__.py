"""The append-only audit trail (its table only; services record into it)."""
