"""Parent POMs kept in the database, so every process reads a released one once.

The Maven provider asks :class:`StoredParentPoms` before it asks the repository, and
stores what it read. It runs on the fetch threads, each read and write in a session of
its own; a database that fails means asking the repository, logged: a fetch is never
failed for it.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from service.db import Database, insert_for
from service.projects.models import MavenParentPom

log = logging.getLogger(__name__)


class StoredParentPoms:
    def __init__(self, database: Database) -> None:
        self.database = database

    def get(self, coordinates: str) -> bytes | None:
        try:
            with self.database.session() as session:
                row = session.get(MavenParentPom, coordinates)
                return bytes(row.pom) if row is not None else None
        except SQLAlchemyError as exc:
            log.warning("parent POM %s not read from the database: %s", coordinates, exc)
            return None

    def put(self, coordinates: str, pom: bytes) -> None:
        if len(coordinates) > 500:
            return
        try:
            with self.database.transaction() as session:
                statement = insert_for(session)(MavenParentPom).values(
                    coordinates=coordinates, pom=pom
                )
                session.exec(statement.on_conflict_do_nothing())
        except SQLAlchemyError as exc:
            log.warning("parent POM %s not kept in the database: %s", coordinates, exc)
