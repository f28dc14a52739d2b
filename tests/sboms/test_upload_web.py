"""The web pages: upload (several files, one bad), products, a product's history and inventory."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func
from sqlmodel import select

from service.audit.services import Actor
from service.companies.models import Role
from service.sboms.models import Product, Sbom, SbomComponent
from service.sboms.services import ingest
from tests.conftest import login, post_form
from tests.factories import make_company, make_user
from tests.sboms.documents import corpus_file, cyclonedx

V1 = cyclonedx(("pkg:pypi/requests", "2.31.0"), ("pkg:pypi/urllib3", "2.0.0"))
V2 = cyclonedx(("pkg:pypi/requests", "2.32.0"), ("pkg:pypi/click", "8.1.0"))


@pytest.fixture
def people(session):
    owner, reviewer, viewer = (make_user(session, name) for name in ("olive", "rafa", "vic"))
    company = make_company(
        session,
        "acme",
        name="Acme",
        members=[(owner, Role.owner), (reviewer, Role.reviewer), (viewer, Role.viewer)],
    )
    return company, owner, reviewer, viewer


def upload(client, app, files, product="web-shop", version=""):
    return post_form(
        client,
        app,
        "/c/acme/products/upload",
        {
            "files": [(io.BytesIO(data), name) for name, data in files],
            "product": product,
            "version": version,
        },
        content_type="multipart/form-data",
    )


def text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_several_files_one_bad(client, app, session, people):
    _company, _owner, reviewer, _viewer = people
    login(client, reviewer)
    bad = corpus_file("malformed/cdx-invalid-bomformat-1.6.json")
    response = upload(client, app, [("v1.cdx.json", V1), ("broken.json", bad), ("v2.cdx.json", V2)])
    assert response.status_code == 200
    page = text(response)
    assert 'v1.cdx.json <span class="badge good">stored' in page
    assert 'v2.cdx.json <span class="badge good">stored' in page
    assert 'broken.json <span class="badge bad">rejected' in page
    assert "bomFormat: expected &#39;CycloneDX&#39;, got &#39;AnotherFormat&#39;" in page
    assert "(unknown_format)" in page
    # The summary and the diff of the second good file, against the first.
    assert "CycloneDX 1.5 (json)" in page
    assert "1 added, 1 removed, 1 with other versions" in page
    product = session.exec(select(Product).where(Product.name == "web-shop")).one()
    sboms = session.exec(select(Sbom).where(Sbom.product_id == product.id)).all()
    assert [s.filename for s in sboms] == ["v1.cdx.json", "v2.cdx.json"]
    assert {s.source for s in sboms} == {"web"} and sboms[0].uploaded_by_user_id == reviewer.id


def test_all_bad_answers_400_and_stores_nothing(client, app, session, people):
    login(client, people[1])
    response = upload(client, app, [("empty.json", b""), ("junk.xml", b"<bom")])
    assert response.status_code == 400
    page = text(response)
    assert "The upload is empty" in page and "junk.xml" in page
    assert session.exec(select(func.count()).select_from(Product)).one() == 0


def test_reupload_says_already_stored(client, app, people):
    login(client, people[1])
    upload(client, app, [("v1.json", V1)], version="1.0")
    again = upload(client, app, [("v1-again.json", V1)])
    assert "already stored" in text(again) and "nothing was added" in text(again)


def test_viewers_read_but_do_not_upload(client, app, session, people):
    company, _owner, _reviewer, viewer = people
    ingest(session, Actor.system("t"), company, "web-shop", V1, source="cli")
    session.commit()
    login(client, viewer)
    assert client.get("/c/acme/products/upload").status_code == 403
    assert upload(client, app, [("v1.json", V2)]).status_code == 403
    products = client.get("/c/acme/products")
    assert products.status_code == 200 and b"web-shop" in products.data
    assert b"Upload SBOMs" not in products.data


def test_product_page_history_uuid_and_inventory(client, app, session, people):
    company, owner, *_ = people
    login(client, owner)
    many = cyclonedx(*[(f"pkg:npm/lib-{i:02d}", "1.0.0") for i in range(60)])
    upload(client, app, [("v1.json", V1)], version="1.0")
    upload(client, app, [("v2.json", many)], version="2.0")
    product = session.exec(select(Product).where(Product.company_id == company.id)).one()
    page = client.get(f"/c/acme/products/{product.id}")
    assert page.status_code == 200
    body = text(page)
    assert product.uuid in body
    assert "v1.json" in body and "v2.json" in body and "2.0" in body
    assert "first upload" in body and "+60" in body and "\N{MINUS SIGN}2" in body
    inventory = body.split('id="inventory"')[1]
    assert "page 1 of 2 · 60 components" in inventory
    assert "lib-00" in inventory and "lib-59" not in inventory
    second = text(client.get(f"/c/acme/products/{product.id}?page=2")).split('id="inventory"')[1]
    assert "lib-59" in second and "page 2 of 2" in second
    odd = client.get(f"/c/acme/products/{product.id}?product_id=9&slug=x&page=1")
    assert odd.status_code == 200
    filtered = text(client.get(f"/c/acme/products/{product.id}?q=lib-5"))
    assert "10 components" in filtered
    older = session.exec(select(Sbom).where(Sbom.filename == "v1.json")).one()
    old_page = text(client.get(f"/c/acme/products/{product.id}?sbom={older.id}"))
    assert "requests" in old_page and "not the active one" in old_page
    listing = text(client.get("/c/acme/products"))
    assert "web-shop" in listing and ">60<" in listing.replace(" ", "")
    home = text(client.get("/c/acme/"))
    assert "Products" in home and "60 packages" in home


def test_other_tenants_products_answer_404(client, app, session, people):
    _company, owner, *_ = people
    stranger = make_user(session, "stranger")
    other = make_company(session, "other", members=[(stranger, Role.owner)])
    theirs = ingest(session, Actor.system("t"), other, "secret", V1, source="cli")
    session.commit()
    login(client, owner)
    assert client.get("/c/other/products").status_code == 404
    assert client.get(f"/c/other/products/{theirs.product.id}").status_code == 404
    assert client.get(f"/c/acme/products/{theirs.product.id}").status_code == 404
    assert b"secret" not in client.get("/c/acme/products").data


class TestSizeLimit:
    @pytest.fixture
    def app_overrides(self):
        return {"max_upload_bytes": 4096}

    def test_over_size_upload_gets_a_clear_page(self, client, app, session, people):
        login(client, people[1])
        big = cyclonedx(*[(f"pkg:npm/lib-{i:03d}", "1.0.0") for i in range(100)])
        assert len(big) > 4096
        response = upload(client, app, [("big.json", big)])
        assert response.status_code == 413
        page = text(response)
        assert "the limit is 4 KB per upload" in page
        assert "Upload too large" in page and "Nothing was stored" in page
        assert "/c/acme/products/upload" in page
        assert session.exec(select(func.count()).select_from(SbomComponent)).one() == 0
