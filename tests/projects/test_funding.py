"""FUNDING.yml, funding.json and funding URL classification."""

from __future__ import annotations

import json

import pytest

from service.projects import funding
from service.projects.funding import (
    FundingChannel,
    channel_from_url,
    parse_funding_json,
    parse_funding_yml,
)

EVERY_KEY = """\
# These are supported funding model platforms
github: [octocat, surftocat]
patreon: octocat
open_collective: octo-collective
ko_fi: octocat
tidelift: npm/octo-package
community_bridge: cloud-foundry
liberapay: octoclub
issuehunt: octocat
lfx_crowdfunding: cloud-foundry
polar: octocat
buy_me_a_coffee: octocat
thanks_dev: u/gh/octocat
otechie: octocat
custom: ["https://www.paypal.me/octocat", octocat.com]
"""


def kinds(channels: list[FundingChannel]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for channel in channels:
        out.setdefault(channel.kind, []).append(channel.handle_or_url)
    return out


def test_funding_yml_every_documented_key():
    channels = parse_funding_yml(EVERY_KEY)
    assert kinds(channels) == {
        "github_sponsors": ["octocat", "surftocat"],
        "patreon": ["octocat"],
        "open_collective": ["octo-collective"],
        "ko_fi": ["octocat"],
        "tidelift": ["npm/octo-package"],
        "community_bridge": ["cloud-foundry"],
        "liberapay": ["octoclub"],
        "issuehunt": ["octocat"],
        "lfx_crowdfunding": ["cloud-foundry"],
        "polar": ["octocat"],
        "buy_me_a_coffee": ["octocat"],
        "thanks_dev": ["u/gh/octocat"],
        "otechie": ["octocat"],
        "custom": ["https://www.paypal.me/octocat", "https://octocat.com"],
    }
    urls = {c.kind: c.url for c in channels}
    assert [c.url for c in channels[:2]] == [
        "https://github.com/sponsors/octocat",
        "https://github.com/sponsors/surftocat",
    ]
    assert urls["open_collective"] == "https://opencollective.com/octo-collective"
    assert urls["tidelift"] == "https://tidelift.com/funding/github/npm/octo-package"
    assert urls["thanks_dev"] == "https://thanks.dev/u/gh/octocat"
    assert urls["liberapay"] == "https://liberapay.com/octoclub"
    assert urls["polar"] == "https://polar.sh/octocat"
    assert all(c.source == "FUNDING.yml" for c in channels)


def test_every_documented_key_is_known():
    documented = {
        "github",
        "patreon",
        "open_collective",
        "ko_fi",
        "tidelift",
        "community_bridge",
        "liberapay",
        "issuehunt",
        "lfx_crowdfunding",
        "polar",
        "buy_me_a_coffee",
        "thanks_dev",
    }
    assert documented <= set(funding.FUNDING_YML_KEYS)


def test_github_template_with_only_comments_gives_nothing():
    template = """\
github: # Replace with up to 4 GitHub Sponsors-enabled usernames e.g., [user1, user2]
patreon: # Replace with a single Patreon username
custom: # Replace with up to 4 custom sponsorship URLs e.g., ['link1', 'link2']
"""
    assert parse_funding_yml(template) == []


def test_block_lists_and_single_strings():
    text = "github:\n  - alice\n  - bob\ncustom: https://example.org/donate\nthanks_dev: gh/carol\n"
    channels = parse_funding_yml(text)
    assert kinds(channels) == {
        "github_sponsors": ["alice", "bob"],
        "custom": ["https://example.org/donate"],
        "thanks_dev": ["gh/carol"],
    }
    assert channels[-1].url == "https://thanks.dev/u/gh/carol"


@pytest.mark.parametrize(
    "junk",
    [
        None,
        "",
        "just a string",
        "- a\n- list\n",
        "github: {nested: mapping}\n",
        "github: [alice, {x: 1}, 3, '', '../../etc']\nunknown_key: foo\n",
        "\x00\x01binary",
        b"github: alice\n\xff\xfe",
        "github: 'a very long name that is not a github login at all because it has spaces'",
        "custom: javascript:alert(1)",
        "custom: [file:///etc/passwd, 'http://ok.example/x']",
    ],
)
def test_junk_never_raises(junk):
    channels = parse_funding_yml(junk)
    assert isinstance(channels, list)
    for channel in channels:
        assert channel.url is None or channel.url.startswith("https://")


def test_junk_keeps_what_it_can():
    channels = parse_funding_yml("github: [alice, {x: 1}, 3, '', '../../etc']\n")
    assert kinds(channels) == {"github_sponsors": ["alice", "3"]}
    channels = parse_funding_yml("custom: [file:///etc/passwd, 'http://ok.example/x']")
    assert [c.url for c in channels] == ["https://ok.example/x"]


def test_invalid_yaml_falls_back_to_a_line_reader():
    # Tabs and an unclosed quote make this invalid YAML; the flat keys are still read.
    text = (
        "github: alice\n\tpatreon: 'bob\nliberapay: carol # comment\n"
        "custom: [https://x.example/a, 'https://y.example/b']\n"
    )
    channels = parse_funding_yml(text)
    found = kinds(channels)
    assert found["github_sponsors"] == ["alice"]
    assert found["liberapay"] == ["carol"]
    assert found["custom"] == ["https://x.example/a", "https://y.example/b"]


def test_full_urls_pasted_where_a_handle_belongs():
    channels = parse_funding_yml(
        "github: https://github.com/sponsors/alice\nopen_collective: https://opencollective.com/x\n"
    )
    assert kinds(channels) == {"github_sponsors": ["alice"], "open_collective": ["x"]}


def test_duplicates_are_dropped():
    channels = parse_funding_yml("github: [alice, Alice, alice]\n")
    assert [c.handle_or_url for c in channels] == ["alice"]


def test_oversized_manifest_is_ignored():
    assert parse_funding_yml("github: alice\n" + "#" * 300_000) == []


@pytest.mark.parametrize(
    ("url", "kind", "handle"),
    [
        ("https://github.com/sponsors/octocat", "github_sponsors", "octocat"),
        ("https://github.com/sponsors/octocat/", "github_sponsors", "octocat"),
        ("https://opencollective.com/webpack", "open_collective", "webpack"),
        ("https://opencollective.com/webpack/donate", "open_collective", "webpack"),
        ("https://liberapay.com/octoclub/donate", "liberapay", "octoclub"),
        ("https://thanks.dev/u/gh/octocat", "thanks_dev", "u/gh/octocat"),
        ("https://polar.sh/octocat", "polar", "octocat"),
        ("https://www.patreon.com/octocat", "patreon", "octocat"),
        ("https://patreon.com/c/octocat", "patreon", "octocat"),
        ("https://ko-fi.com/octocat", "ko_fi", "octocat"),
        ("https://www.buymeacoffee.com/octocat", "buy_me_a_coffee", "octocat"),
        (
            "https://tidelift.com/funding/github/npm/left-pad",
            "tidelift",
            "npm/left-pad",
        ),
        (
            "https://tidelift.com/subscription/pkg/pypi-requests",
            "tidelift",
            "pypi-requests",
        ),
        ("https://issuehunt.io/r/octocat", "issuehunt", "octocat"),
        (
            "https://crowdfunding.lfx.linuxfoundation.org/projects/cloud-foundry",
            "lfx_crowdfunding",
            "cloud-foundry",
        ),
        ("https://github.com/octocat", "custom", "https://github.com/octocat"),
        ("https://opencollective.com/", "custom", "https://opencollective.com/"),
        ("https://example.org/donate", "custom", "https://example.org/donate"),
        ("http://example.org/donate", "custom", "https://example.org/donate"),
        ("example.org/donate", "custom", "https://example.org/donate"),
    ],
)
def test_channel_from_url(url, kind, handle):
    channel = channel_from_url(url, source="npm")
    assert channel is not None
    assert (channel.kind, channel.handle_or_url, channel.source) == (kind, handle, "npm")


@pytest.mark.parametrize(
    "url", [None, "", "javascript:alert(1)", "file:///x", "ftp://x.example/", "not a url", 5]
)
def test_channel_from_url_refuses_non_web_values(url):
    assert channel_from_url(url) is None


FUNDING_JSON = {
    "version": "v1.0.0",
    "entity": {
        "type": "individual",
        "role": "maintainer",
        "name": "The Octocat",
        "email": "octocat@example.org",
        "phone": "",
        "description": "I maintain things.",
        "webpageUrl": {"url": "https://octocat.example.org"},
    },
    "projects": [
        {
            "guid": "octo-lib",
            "name": "octo-lib",
            "description": "A library.",
            "webpageUrl": {"url": "https://octo-lib.example.org"},
            "repositoryUrl": {
                "url": "https://github.com/octocat/octo-lib",
                "wellKnown": "https://github.com/octocat/octo-lib/blob/main/.well-known/funding-manifest-urls",
            },
            "licenses": ["spdx:MIT"],
            "tags": ["library"],
        }
    ],
    "funding": {
        "channels": [
            {
                "guid": "mybank",
                "type": "bank",
                "address": "",
                "description": "Wire to account 123.",
            },
            {
                "guid": "gh-sponsors",
                "type": "payment-provider",
                "address": "https://github.com/sponsors/octocat",
                "description": "",
            },
            {
                "guid": "paypal",
                "type": "payment-provider",
                "address": "https://www.paypal.com/paypalme/octocat",
                "description": "",
            },
        ],
        "plans": [
            {
                "guid": "hosting",
                "status": "active",
                "name": "Hosting costs",
                "description": "",
                "amount": 250.5,
                "currency": "USD",
                "frequency": "monthly",
                "channels": ["mybank", "gh-sponsors"],
            },
            {
                "guid": "developer",
                "status": "inactive",
                "name": "Developer time",
                "amount": 100000,
                "currency": "JPY",
                "frequency": "yearly",
                "channels": ["paypal"],
            },
            {
                "guid": "angel",
                "status": "active",
                "name": "Goodwill",
                "amount": 0,
                "currency": "EUR",
                "frequency": "one-time",
                "channels": ["nope"],
            },
        ],
        "history": [{"year": 2023, "income": 1000, "expenses": 500, "taxes": 0}],
    },
}


def test_funding_json_example():
    manifest = parse_funding_json(json.dumps(FUNDING_JSON))
    assert manifest.version == "v1.0.0"
    assert manifest.entity_name == "The Octocat"
    assert manifest.entity_type == "individual"
    assert manifest.entity_role == "maintainer"
    assert manifest.entity_url == "https://octocat.example.org"
    assert manifest.project_repository_urls == ("https://github.com/octocat/octo-lib",)
    assert [(c.kind, c.handle_or_url) for c in manifest.channels] == [
        ("funding_json", "bank:mybank"),
        ("github_sponsors", "octocat"),
        ("funding_json", "https://www.paypal.com/paypalme/octocat"),
    ]
    hosting, developer, angel = manifest.plans
    assert (hosting.amount_minor, hosting.currency, hosting.frequency) == (25050, "USD", "monthly")
    assert hosting.channels == ("mybank", "gh-sponsors") and hosting.status == "active"
    assert (developer.amount_minor, developer.currency, developer.status) == (
        100000,
        "JPY",
        "inactive",
    )
    assert angel.amount_minor == 0
    assert any("unknown channels" in w for w in manifest.warnings)


def test_funding_json_from_decoded_data_with_floats():
    manifest = parse_funding_json(FUNDING_JSON)
    assert manifest.plans[0].amount_minor == 25050


def test_funding_json_older_id_fields_are_accepted():
    doc = {
        "version": "v1.0.0",
        "funding": {
            "channels": [
                {"id": "c1", "type": "payment-provider", "address": "https://liberapay.com/x"}
            ],
            "plans": [
                {"id": "p1", "name": "p", "amount": 5, "currency": "eur", "channels": ["c1"]}
            ],
        },
    }
    manifest = parse_funding_json(doc)
    assert [(c.kind, c.handle_or_url) for c in manifest.channels] == [("liberapay", "x")]
    assert manifest.plans[0].guid == "p1" and manifest.plans[0].amount_minor == 500
    assert manifest.plans[0].currency == "EUR" and manifest.warnings == ()


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "not json",
        "[1, 2]",
        b"\xff\xfe",
        "{" * 5000,
        {"funding": "x"},
        {"funding": {"plans": [1, None, "x"]}},
    ],
)
def test_funding_json_junk_never_raises(data):
    manifest = parse_funding_json(data)
    assert manifest.channels == () and manifest.plans == ()


def test_funding_json_bad_amounts_and_currencies_become_warnings():
    doc = {
        "funding": {
            "plans": [
                {"name": "a", "amount": 1.234, "currency": "USD"},
                {"name": "b", "amount": 10, "currency": "XYZ"},
                {"name": "c", "amount": -5, "currency": "USD"},
                {"name": "d", "amount": True, "currency": "USD"},
            ]
        }
    }
    manifest = parse_funding_json(doc)
    assert [p.amount_minor for p in manifest.plans] == [None, None, None, None]
    assert len(manifest.warnings) == 3


def test_every_key_is_read_without_pyyaml_too(monkeypatch):
    with_yaml = parse_funding_yml(EVERY_KEY)
    monkeypatch.setitem(__import__("sys").modules, "yaml", None)
    assert parse_funding_yml(EVERY_KEY) == with_yaml
    assert kinds(parse_funding_yml("github:\n  - alice\n  - bob\n")) == {
        "github_sponsors": ["alice", "bob"]
    }
