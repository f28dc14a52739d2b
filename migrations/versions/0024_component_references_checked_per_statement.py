"""component references checked per statement on PostgreSQL: the two foreign keys of
sbom_components (to sboms and to packages) become statement triggers that lock and check
all of a statement's referenced rows at once

PostgreSQL 15 checks a foreign key with one query per new row: for a 100,000-component
upload, 200,000 queries and about two thirds of the server's write. The triggers keep
what the keys guaranteed, in a few set-based queries per statement:

- a new or changed component row must name an SBOM and a package (when it names one)
  that exist; each one named is locked FOR KEY SHARE, as a key's check locks it, so no
  other transaction deletes it until this one ends; one that is missing, or deleted by a
  transaction that committed meanwhile, is not among the locked rows, and the statement
  fails with the key's error code (foreign_key_violation);
- an SBOM or package that a component names cannot be deleted (the keys' NO ACTION);
- the ids of SBOMs and packages never change (stricter than the keys, which allowed it
  for an id nothing names; nothing in Tributary changes an id).

As with the keys, a delete in a REPEATABLE READ transaction relies on the row locks;
Tributary deletes neither SBOMs nor packages. SQLite keeps its foreign keys: it checks
them without a query per row. The models keep both keys, so that SQLite's schema and the
ORM know them; `service.db.compared_with_models` leaves them out of the comparison with
PostgreSQL's schema.

Revision ID: 0024
Revises: 0023
"""

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

REFERENCES = (("sbom_id", "sboms"), ("package_id", "packages"))

CHECK_NEW_ROWS = """
CREATE FUNCTION sbom_components_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sbom_ids bigint[];
    package_ids bigint[];
BEGIN
    SELECT coalesce(array_agg(DISTINCT sbom_id), '{}'),
           coalesce(array_agg(DISTINCT package_id) FILTER (WHERE package_id IS NOT NULL), '{}')
      INTO sbom_ids, package_ids FROM new_rows;
    IF (SELECT count(*) FROM (SELECT FROM sboms WHERE id = ANY (sbom_ids) FOR KEY SHARE)
            AS locked) <> cardinality(sbom_ids) THEN
        RAISE foreign_key_violation USING MESSAGE = 'insert or update on table '
            '"sbom_components" violates foreign key constraint '
            '"sbom_components_sbom_id_fkey": a component names an SBOM that does not exist';
    END IF;
    IF (SELECT count(*) FROM (SELECT FROM packages WHERE id = ANY (package_ids) FOR KEY SHARE)
            AS locked) <> cardinality(package_ids) THEN
        RAISE foreign_key_violation USING MESSAGE = 'insert or update on table '
            '"sbom_components" violates foreign key constraint '
            '"sbom_components_package_id_fkey": a component names a package that does not '
            'exist';
    END IF;
    RETURN NULL;
END
$$
"""

REFUSE_DELETE_WHEN_NAMED = """
CREATE FUNCTION sbom_components_refuse_delete_of_named() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_TABLE_NAME = 'sboms' AND EXISTS (
            SELECT FROM sbom_components WHERE sbom_id IN (SELECT id FROM old_rows))
       OR TG_TABLE_NAME = 'packages' AND EXISTS (
            SELECT FROM sbom_components WHERE package_id IN (SELECT id FROM old_rows)) THEN
        RAISE foreign_key_violation USING MESSAGE = format(
            'update or delete on table "%s" violates foreign key constraint on table '
            '"sbom_components": a component names a deleted row', TG_TABLE_NAME);
    END IF;
    RETURN NULL;
END
$$
"""

REFUSE_ID_CHANGE = """
CREATE FUNCTION refuse_id_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE foreign_key_violation USING MESSAGE = format(
        'the id of a row of "%s" never changes (%s to %s)', TG_TABLE_NAME, OLD.id, NEW.id);
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column, _ in REFERENCES:
        op.execute(f"ALTER TABLE sbom_components DROP CONSTRAINT sbom_components_{column}_fkey")
    op.execute(CHECK_NEW_ROWS)
    op.execute(REFUSE_DELETE_WHEN_NAMED)
    op.execute(REFUSE_ID_CHANGE)
    # Transition tables allow one event a trigger, and no column list.
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER sbom_components_references_on_{event.lower()} AFTER {event} "
            "ON sbom_components REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
            "EXECUTE FUNCTION sbom_components_check_references()"
        )
    for _, table in REFERENCES:
        op.execute(
            f"CREATE TRIGGER {table}_named_by_components AFTER DELETE ON {table} "
            "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
            "EXECUTE FUNCTION sbom_components_refuse_delete_of_named()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_id_never_changes BEFORE UPDATE OF id ON {table} "
            "FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) "
            "EXECUTE FUNCTION refuse_id_change()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for _, table in REFERENCES:
        op.execute(f"DROP TRIGGER {table}_id_never_changes ON {table}")
        op.execute(f"DROP TRIGGER {table}_named_by_components ON {table}")
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER sbom_components_references_on_{event} ON sbom_components")
    for function in (
        "refuse_id_change",
        "sbom_components_refuse_delete_of_named",
        "sbom_components_check_references",
    ):
        op.execute(f"DROP FUNCTION {function}()")
    for column, table in REFERENCES:
        op.execute(
            f"ALTER TABLE sbom_components ADD CONSTRAINT sbom_components_{column}_fkey "
            f"FOREIGN KEY ({column}) REFERENCES {table} (id)"
        )
