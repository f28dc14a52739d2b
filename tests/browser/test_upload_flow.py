"""An owner uploads an SBOM from the web and reads its summary, then the product's page."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.sboms.documents import cyclonedx

pytestmark = pytest.mark.browser


def test_owner_uploads_an_sbom_and_sees_its_summary(page, demo_server, tmp_path):
    sbom = tmp_path / "checkout.cdx.json"
    sbom.write_bytes(
        cyclonedx(("pkg:npm/%40types/node", "20.1.0"), ("pkg:pypi/requests", "2.32.3"))
    )
    sign_in(page, demo_server, "demo-owner")
    page.get_by_role("link", name="Upload SBOMs").first.click()
    page.get_by_label("SBOM files").set_input_files(str(sbom))
    page.get_by_role("combobox", name="Product").fill("checkout-api")
    page.get_by_label("Version (optional)").fill("1.4.2")
    page.get_by_role("button", name="Upload", exact=True).click()

    result = page.locator("#file-1")
    expect(result).to_contain_text("checkout.cdx.json stored")
    expect(result.locator(".facts")).to_contain_text("CycloneDX 1.5 (json)")
    expect(result).to_contain_text("First SBOM of this product: 2 packages.")
    result.get_by_role("link", name="checkout-api").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("checkout-api")
    inventory = page.get_by_role("region", name="Inventory")
    expect(inventory).to_contain_text("@types/node")  # the npm scope is kept
    expect(inventory).to_contain_text("pkg:npm/@types/node@20.1.0")  # the purl, decoded
