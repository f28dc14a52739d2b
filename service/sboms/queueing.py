"""The task that resolves a stored SBOM's packages to their projects: queued here, in the
upload's own transaction, as the SBOM is stored; run by the projects domain's handler
(resolution never runs inside the upload request)."""

from __future__ import annotations

from sqlmodel import Session

from service.jobs.models import Task
from service.jobs.queue import enqueue
from service.sboms.models import Sbom

RESOLVE_SBOM = "projects.resolve_sbom"


def sbom_task_key(sbom_id: int) -> str:
    return f"resolve:sbom:{sbom_id}"


def queue_resolution(session: Session, sbom: Sbom) -> Task:
    """Queue resolution of a stored SBOM's packages in the caller's transaction."""
    return enqueue(
        session,
        RESOLVE_SBOM,
        {"sbom_id": sbom.id},
        unique_key=sbom_task_key(sbom.id),
        company_id=sbom.company_id,
    )
