"""Background work of the SBOM domain (run by `tributary worker`).

* ``sboms.github_import`` — queued by the GitHub import page: import a linked
  organisation's dependency graphs, recording each repository's outcome as it goes.
"""

from __future__ import annotations

from datetime import datetime

from service.accounts.models import User
from service.accounts.services import github_token
from service.core.services import get_github, get_secrets
from service.db import get_db
from service.jobs.registry import task
from service.sboms.github_import import IMPORT_TASK, run_import
from service.sboms.models import GitHubImport
from service.sboms.services import upload_limits


@task(IMPORT_TASK)
def github_import(payload: dict, now: datetime) -> None:
    with get_db().transaction() as session:
        run = session.get(GitHubImport, int(payload["import_id"]))
        if run is None:
            return
        user = session.get(User, run.requested_by_user_id)
        try:
            token = github_token(user, get_secrets()) if user else None
        except Exception:  # sealed with a retired key: as good as none (the run says so)
            token = None
        run_import(session, run, github=get_github(), token=token, limits=upload_limits())
