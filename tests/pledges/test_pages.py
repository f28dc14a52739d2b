"""Pledge pages: the list with filters and totals, a pledge with payments and history,
the forms (roles, CSRF, messages naming the field); another company's pledges are 404."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

from service.audit.services import Actor
from service.pledges import approval, services
from tests.allocation.data import acme
from tests.conftest import login, post_form
from tests.factories import make_payout_channel

NOW = datetime(2027, 1, 10, 9, tzinfo=UTC)


def text(response) -> str:
    return response.get_data(as_text=True)


def tile(html: str, label: str) -> str:
    """The value of the figure tile labelled `label`."""
    found = re.search(rf'<span class="label">{label}</span>\s*<span class="value">([^<]*)<', html)
    assert found, f"no tile {label}"
    return found[1]


def left_pledge(session, found):
    return next(
        p
        for p in services.pledges_of(session, found.company.id)
        if p.project_id == found.projects["left"].id
    )


def test_the_list_filters_and_totals(client, session, found):
    login(client, found.viewer)
    html = text(client.get(f"/c/{found.company.slug}/pledges"))
    assert "github.com/left/pad" in html and "github.com/fw/framework" in html
    assert "<dd>130.00 USD</dd>" in html  # pledged
    assert "Pledge by hand" not in html  # viewers only read
    filtered = text(client.get(f"/c/{found.company.slug}/pledges?project=left&state=pledged"))
    assert "github.com/left/pad" in filtered and "github.com/fw/framework" not in filtered
    assert "<dd>100.00 USD</dd>" in filtered
    bad = text(client.get(f"/c/{found.company.slug}/pledges?state=lost"))
    assert "state: Unknown state &#39;lost&#39;" in bad


def test_recording_payments_on_the_pledge_page(client, app, session, found):
    pledge = left_pledge(session, found)
    url = f"/c/{found.company.slug}/pledges/{pledge.id}"
    login(client, found.reviewer)
    form = {
        "amount": "40.00",
        "currency": "USD",
        "paid_on": "2027-01-05",
        "platform": "github_sponsors",
        "reference": "GH-1",
    }
    response = post_form(client, app, url + "/payments", form)
    assert response.status_code == 302
    html = text(client.get(url))
    assert "partially paid" in html and "GH-1" in html and "Payment of 40.00 USD recorded." in html
    # Over what is owed: refused with the confirmation box shown, then confirmed.
    refused = post_form(client, app, url + "/payments", {**form, "amount": "70.00"})
    assert refused.status_code == 400
    assert "confirm the over-payment" in text(refused)
    assert 'name="confirm_overpayment"' in text(refused)
    confirmed = post_form(
        client, app, url + "/payments", {**form, "amount": "70.00", "confirm_overpayment": "yes"}
    )
    assert confirmed.status_code == 302
    html = text(client.get(url))
    assert "over-payment" in html and "110.00 USD" in html
    assert html.count("payment recorded") == 2  # the history
    # A payment dated before the period names the field.
    early = post_form(client, app, url + "/payments", {**form, "paid_on": "2026-11-30"})
    assert early.status_code == 400 and "before the pledge&#39;s period" in text(early)


def test_cancel_is_for_owners_and_needs_a_reason(client, app, session, found):
    pledge = left_pledge(session, found)
    url = f"/c/{found.company.slug}/pledges/{pledge.id}/cancel"
    login(client, found.reviewer)
    assert post_form(client, app, url, {"reason": "x"}).status_code == 403
    login(client, found.owner)
    assert "Say why" in text(post_form(client, app, url, {"reason": ""}))
    assert post_form(client, app, url, {"reason": "moved to direct contract"}).status_code == 302
    html = text(client.get(f"/c/{found.company.slug}/pledges/{pledge.id}"))
    assert "Cancelled: moved to direct contract" in html
    assert "Record a payment" not in html


def test_manual_pledge_and_due_day_forms(client, app, session, found):
    login(client, found.reviewer)
    base = f"/c/{found.company.slug}/pledges"
    bad = post_form(
        client,
        app,
        base,
        {
            "project": "github.com/tiny/tiny",
            "period": "2027-01",
            "amount": "-1",
            "recurrence": "once",
        },
    )
    assert bad.status_code == 400 and "Amount:" in text(bad)
    made = post_form(
        client,
        app,
        base,
        {
            "project": "github.com/tiny/tiny",
            "period": "2027-01",
            "amount": "12.00",
            "recurrence": "monthly",
            "note": "thanks for the fix",
        },
    )
    assert made.status_code == 302
    html = text(client.get(made.headers["Location"]))
    assert "thanks for the fix" in html and "by hand, monthly" in html
    assert post_form(client, app, base + "/settings", {"due_day": "3"}).status_code == 403
    login(client, found.owner)
    assert post_form(client, app, base + "/settings", {"due_day": "3"}).status_code == 302
    assert services.due_day(session, found.company.id) == 3


def test_forms_need_the_csrf_token(client, session, found):
    login(client, found.owner)
    pledge = left_pledge(session, found)
    response = client.post(
        f"/c/{found.company.slug}/pledges/{pledge.id}/cancel", data={"reason": "x"}
    )
    assert response.status_code == 400


def test_another_companys_pledges_answer_404(client, app, session, found):
    other = acme(session)
    pledge = left_pledge(session, found)
    login(client, other.owner)
    base = f"/c/{found.company.slug}/pledges"
    assert client.get(base).status_code == 404
    # Their own slug with our pledge's id is not found either.
    theirs = f"/c/{other.company.slug}/pledges/{pledge.id}"
    assert client.get(theirs).status_code == 404
    for url, data in (
        (
            theirs + "/payments",
            {"amount": "1", "currency": "USD", "paid_on": "2027-01-05", "platform": "bank"},
        ),
        (theirs + "/cancel", {"reason": "x"}),
        (base + f"/{pledge.id}/cancel", {"reason": "x"}),
        (base, {"project": "github.com/tiny/tiny", "period": "2027-01", "amount": "1"}),
        (base + "/settings", {"due_day": "2"}),
    ):
        assert post_form(client, app, url, data).status_code == 404, url
    session.expire_all()
    assert (pledge.state, pledge.paid_minor) == ("pledged", 0)


def test_exporting_from_the_page_and_downloading_the_file(client, app, session, found):
    login(client, found.reviewer)
    base = f"/c/{found.company.slug}/pledges"
    made = post_form(
        client, app, base + "/exports", {"kind": "github-sponsors", "period": "2026-12"}
    )
    assert made.status_code == 302
    page = text(client.get(made.headers["Location"]))
    assert "no GitHub Sponsors channel" in page and "github.com/fw/framework" in page
    name = f"{found.company.slug}-2026-12-github-sponsors.csv"
    download = client.get(made.headers["Location"] + "/files/" + name)
    assert download.data == b"Maintainer username,Sponsorship amount in USD\nleft,100\n"
    assert download.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    assert "exported" in text(client.get(base))
    assert client.get(made.headers["Location"] + "/files/other.csv").status_code == 404
    bad = post_form(client, app, base + "/exports", {"kind": "csv", "period": "2026-13"})
    assert bad.status_code == 400 and "YYYY-MM" in text(bad)
    assert (
        post_form(client, app, base + "/exports", {"kind": "zip", "period": "2026-12"}).status_code
        == 400
    )
    login(client, found.viewer)
    assert (
        post_form(client, app, base + "/exports", {"kind": "csv", "period": "2026-12"}).status_code
        == 403
    )
    assert client.get(made.headers["Location"]).status_code == 200  # viewers read


def test_another_companys_exports_answer_404(client, app, session, found):
    login(client, found.reviewer)
    made = post_form(
        client,
        app,
        f"/c/{found.company.slug}/pledges/exports",
        {"kind": "csv", "period": "2026-12"},
    )
    export_id = made.headers["Location"].rsplit("/", 1)[1]
    other = acme(session)
    login(client, other.owner)
    name = f"{found.company.slug}-2026-12-pledges.csv"
    for url in (
        f"/c/{other.company.slug}/pledges/exports/{export_id}",
        f"/c/{other.company.slug}/pledges/exports/{export_id}/files/{name}",
        f"/c/{found.company.slug}/pledges/exports/{export_id}",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        post_form(
            client,
            app,
            f"/c/{found.company.slug}/pledges/exports",
            {"kind": "csv", "period": "2026-12"},
        ).status_code
        == 404
    )


GITHUB_RECEIPTS = (
    b"Transaction date,Maintainer username,Processed amount,Transaction ID\n"
    b"2027-01-05,left,60.00,T1\n"
    b"2027-01-05,stranger,5.00,T2\n"
)


def upload_receipts(client, app, slug, data=GITHUB_RECEIPTS, preset="github_sponsors"):
    return post_form(
        client,
        app,
        f"/c/{slug}/pledges/receipts",
        {"preset": preset, "encoding": "", "file": (io.BytesIO(data), "receipts.csv")},
        content_type="multipart/form-data",
    )


def test_import_receipts_with_the_mapping_step_then_reconcile(client, app, session, found):
    slug = found.company.slug
    login(client, found.reviewer)
    post_form(
        client, app, f"/c/{slug}/pledges/exports", {"kind": "github-sponsors", "period": "2026-12"}
    )
    uploaded = upload_receipts(client, app, slug)
    assert uploaded.status_code == 302
    step = text(client.get(uploaded.headers["Location"]))
    assert (
        "Which column holds what" in step
        and "<option selected>Maintainer username</option>" in step
    )
    # Mapping the amount to nothing is refused, naming what is missing.
    mapping = {
        "map_date": "Transaction date",
        "map_account": "Maintainer username",
        "map_amount": "Processed amount",
        "map_reference": "Transaction ID",
    }
    refused = post_form(client, app, uploaded.headers["Location"], {**mapping, "map_amount": ""})
    assert refused.status_code == 400 and "Choose the column for: Amount" in text(refused)
    done = post_form(client, app, uploaded.headers["Location"], mapping)
    assert done.status_code == 302
    report = text(client.get(uploaded.headers["Location"]))
    assert "matched" in report and "no open pledge of 2026-12 or 2027-01 pays stranger" in report
    reconciliation = text(client.get(f"/c/{slug}/pledges/reconciliation?period=2026-12"))
    assert tile(reconciliation, "Planned") == "130.00 USD"
    assert tile(reconciliation, "Exported") == "100.00 USD"  # left-pad
    assert tile(reconciliation, "Paid") == "60.00 USD"
    assert "partly paid" in reconciliation
    assert (
        "left out of github-sponsors" in reconciliation
        and "no GitHub Sponsors channel" in reconciliation
    )
    assert "stranger" in reconciliation  # the unmatched receipt
    # The second file of this preset is proposed the remembered mapping; nothing twice.
    again = upload_receipts(client, app, slug)
    post_form(client, app, again.headers["Location"], mapping)
    assert "already imported" in text(client.get(again.headers["Location"]))
    assert left_pledge(session, found).paid_minor == 6_000


def test_receipts_problems_and_roles(client, app, session, found):
    slug = found.company.slug
    login(client, found.reviewer)
    bad = upload_receipts(client, app, slug, data=b"Date,Amount,amount\n1,2,3\n")
    assert bad.status_code == 400 and "appears twice in the header" in text(bad)
    login(client, found.viewer)
    assert upload_receipts(client, app, slug).status_code == 403
    assert client.get(f"/c/{slug}/pledges/reconciliation?period=2026-13").status_code == 400


def test_another_companys_receipts_and_reconciliation_answer_404(client, app, session, found):
    login(client, found.reviewer)
    uploaded = upload_receipts(client, app, found.company.slug)
    import_id = uploaded.headers["Location"].rsplit("/", 1)[1]
    other = acme(session)
    login(client, other.owner)
    for url in (
        f"/c/{found.company.slug}/pledges/receipts",
        f"/c/{found.company.slug}/pledges/reconciliation",
        f"/c/{other.company.slug}/pledges/receipts/{import_id}",
    ):
        assert client.get(url).status_code == 404, url
    assert upload_receipts(client, app, found.company.slug).status_code == 404
    assert (
        post_form(
            client,
            app,
            f"/c/{other.company.slug}/pledges/receipts/{import_id}",
            {"map_date": "Transaction date"},
        ).status_code
        == 404
    )


def test_open_source_pledge_report_page(client, app, session, found):
    services.record_payment(
        session,
        Actor.system("t"),
        left_pledge(session, found),
        amount="100.00",
        currency="USD",
        paid_on="2027-01-05",
        platform="github_sponsors",
    )
    session.commit()
    login(client, found.viewer)
    base = f"/c/{found.company.slug}/reports/open-source-pledge"
    html = text(client.get(base + "?year=2027&developers=2"))
    assert "<dd>$100.00</dd>" in html and "<dd>$50.00</dd>" in html and "not yet met" in html
    md = client.get(base + "?year=2027&developers=2&format=md")
    assert md.data.startswith(b"# ") and b"$100.00" in md.data
    assert client.get(base + "?year=2027&developers=2&format=json").json["usdAmountPaid"] == 100
    assert client.get(base + "?year=20x7&developers=2").status_code == 400
    other = acme(session)
    login(client, other.owner)
    assert client.get(base + "?year=2027&developers=2").status_code == 404


def test_maintainers_see_what_was_pledged_and_paid_to_them(client, app, session, found):
    make_payout_channel(session, found.maintainer, kind="liberapay", value="fw", preferred=True)
    approval.apply_approval(
        session,
        Actor.system("t"),
        company_id=found.company.id,
        proposal_id=None,
        period="2027-01",
        currency="USD",
        amounts={found.projects["framework"].id: 4_000},
    )
    session.commit()
    january = next(p for p in services.pledges_of(session, found.company.id, "2027-01"))
    services.record_payment(
        session,
        Actor.system("t"),
        january,
        amount="15.00",
        currency="USD",
        paid_on="2027-01-09",
        platform="liberapay",
    )
    session.commit()
    login(client, found.maintainer)
    html = text(client.get("/me/pledges"))
    assert html.index("<h2>2027-01</h2>") < html.index("<h2>2026-12</h2>")
    assert found.company.name in html and "github.com/left/pad" not in html
    assert "40.00 (100.00%)" in html and "15.00" in html and "partially paid" in html
    assert "to the project" in html  # December was pledged before the share was recorded
    # The company chooses to appear anonymously.
    login(client, found.owner)
    post_form(
        client,
        app,
        f"/c/{found.company.slug}/pledges/settings",
        {"due_day": "15", "anonymous": "yes"},
        follow_redirects=True,
    )
    login(client, found.maintainer)
    html = text(client.get("/me/pledges"))
    assert "anonymous company" in html and found.company.name not in html
    # Someone who maintains nothing sees nothing.
    login(client, found.viewer)
    assert "Nothing pledged to your projects yet" in text(client.get("/me/pledges"))
