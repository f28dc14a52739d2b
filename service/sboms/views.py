"""Product pages: the products list, uploads, a product's history and inventory, GitHub import.

Reading needs any membership. Uploading needs the reviewer role or higher: an SBOM changes
what the company's budget is split over, which is the reviewers' and owners' business,
while viewers only read. Importing from GitHub acts on a linked organisation with the
owner's GitHub token, so it needs the owner role (as linking the organisation does).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from urllib.parse import unquote

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from service.accounts.auth import current_user
from service.accounts.services import github_token
from service.audit.services import Actor
from service.companies.access import company_view
from service.companies.models import Role
from service.companies.services import linked_orgs
from service.core.errors import size_text
from service.core.services import get_secrets, get_settings
from service.db import db_session, savepoint
from service.sboms import inventory_page, services
from service.sboms.forms import GitHubImportForm, InventoryForm, UploadForm
from service.sboms.github_import import (
    GitHubImportError,
    count,
    recent_imports,
    start_import,
)
from service.sboms.models import GitHubImport, Product
from service.sboms.parsing import SbomError

bp = Blueprint("sboms", __name__)
log = logging.getLogger(__name__)

PER_PAGE = 50


def _actor() -> Actor:
    return Actor(user_id=current_user().id)


@bp.app_template_filter("decoded")
def decoded(purl: str | None) -> str:
    """A purl as people read it: percent-escapes decoded (pkg:npm/@types/node@20.1.0)."""
    return unquote(purl) if purl else ""


@bp.app_template_filter("package_name")
def package_name(package_key: str) -> str:
    """A package's name with its namespace, from its key: @types/node, org.slf4j/slf4j-api."""
    _type, _, rest = decoded(package_key).removeprefix("pkg:").partition("/")
    return rest or package_key


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error):
    limit = get_settings().max_upload_bytes
    slug = (request.view_args or {}).get("slug")
    return render_template(
        "sboms/too_large.html",
        limit=size_text(limit),
        upload_url=url_for("sboms.upload", slug=slug) if slug else None,
    ), 413


# Products ----------------------------------------------------------------------------------


@bp.get("/c/<slug>/products")
@company_view()
def products(slug: str):
    session_db = db_session()
    role = g.membership.role
    orgs = linked_orgs(session_db, g.company) if role == Role.owner else []
    import_form = GitHubImportForm()
    import_form.org.choices = [org.org_login for org in orgs]
    return render_template(
        "sboms/products.html",
        company=g.company,
        rows=services.products_of(session_db, g.company),
        can_upload=role.at_least(Role.reviewer),
        import_form=import_form if orgs else None,
        imports=recent_imports(session_db, g.company) if orgs else [],
    )


@bp.get("/c/<slug>/products/<int:product_id>")
@company_view()
def product(slug: str, product_id: int):
    session_db = db_session()
    company = g.company
    found = services.product_by_id(session_db, company, product_id)
    if found is None:
        abort(404)
    history = services.product_history(session_db, company, found)
    selected = history[0] if history else None
    form = InventoryForm(request.args)
    if form.sbom.data is not None:
        selected = services.sbom_of_product(session_db, company, found, form.sbom.data)
        if selected is None:
            abort(404)
    filters = form.filters
    page = (
        inventory_page.inventory(
            session_db,
            selected,
            page=form.page.data,
            per_page=PER_PAGE,
            filters=filters,
        )
        if selected
        else None
    )
    parent = session_db.get(Product, found.parent_id) if found.parent_id else None
    return render_template(
        "sboms/product.html",
        query=form.link_params,
        company=company,
        product=found,
        parent=parent,
        children=services.children_of(session_db, found),
        versions=services.versions_of(session_db, found),
        history=history,
        selected=selected,
        latest=history[0] if history else None,
        inventory=page,
        filters=filters,
        can_upload=g.membership.role.at_least(Role.reviewer),
    )


# Upload --------------------------------------------------------------------------------------


@dataclass
class FileResult:
    filename: str
    result: services.IngestResult | None = None
    error: SbomError | None = None  # the file cannot be read
    failure: bool = False  # readable or not, it could not be stored this time

    @property
    def ok(self) -> bool:
        return self.result is not None


@bp.route("/c/<slug>/products/upload", methods=["GET", "POST"])
@company_view(Role.reviewer)
def upload(slug: str):
    form = UploadForm(product=request.args.get("product", ""))
    results: list[FileResult] = []
    if form.validate_on_submit():
        files = [f for f in request.files.getlist(form.files.name) if f and f.filename]
        if not files:
            form.files.errors = ["Choose at least one SBOM file."]
        for storage in files:
            results.append(_store(storage, form.product.data, form.version.data))
    status = 200
    if results and not any(r.ok for r in results):
        status = 503 if any(r.failure for r in results) else 400
    return render_template(
        "sboms/upload.html",
        company=g.company,
        form=form,
        results=results,
        product_names=[row.product.name for row in services.products_of(db_session(), g.company)],
        limit=size_text(get_settings().max_upload_bytes),
    ), status


def _store(storage: FileStorage, product_name: str, version: str | None) -> FileResult:
    """Store one uploaded file in its own savepoint: a failing file never hides the others."""
    filename = os.path.basename((storage.filename or "upload").replace("\\", "/"))[:255]
    data = storage.read()
    try:
        result = savepoint(
            lambda session: services.ingest(
                session,
                _actor(),
                g.company,
                product_name,
                data,
                source="web",
                filename=filename,
                project_version=(version or "").strip() or None,
                limits=services.upload_limits(),
            )
        )
    except SbomError as exc:
        return FileResult(filename, error=exc)
    except Exception:  # the database went away or stayed locked: this file only
        log.exception("upload of %r for company %s failed", filename, g.company.id)
        return FileResult(filename, failure=True)
    return FileResult(filename, result=result)


# GitHub import ---------------------------------------------------------------------------------


@bp.post("/c/<slug>/products/import-github")
@company_view(Role.owner)
def import_github(slug: str):
    session_db = db_session()
    form = GitHubImportForm()
    form.org.choices = [org.org_login for org in linked_orgs(session_db, g.company)]
    if not form.validate_on_submit():
        error = "Choose one of the company's linked GitHub organisations."
    else:
        user = current_user()
        try:
            run = start_import(
                session_db,
                _actor(),
                g.company,
                form.org.data,
                user_id=user.id,
                token=github_token(user, get_secrets()),
            )
        except GitHubImportError as exc:
            error = exc.message
        else:
            return redirect(url_for("sboms.github_import", slug=slug, import_id=run.id), code=303)
    return render_template(
        "sboms/github_import.html", company=g.company, run=None, error=error
    ), 400


@bp.get("/c/<slug>/products/import-github/<int:import_id>")
@company_view(Role.owner)
def github_import(slug: str, import_id: int):
    run = db_session().get(GitHubImport, import_id)
    if run is None or run.company_id != g.company.id:
        abort(404)
    return render_template(
        "sboms/github_import.html", company=g.company, run=run, count=count, error=None
    )
