"""Package identity: purls normalized by type rules, and the fallback for the rest."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packageurl import PackageURL

from service.sboms.parsing import Component, package_identity
from service.sboms.parsing import purls as purls_module


@pytest.mark.parametrize(
    ("purl", "key"),
    [
        # PyPI: PEP 503 (lowercase, runs of -_. become one -)
        ("pkg:pypi/Django@4.2", "pkg:pypi/django"),
        ("pkg:pypi/zope.interface@6", "pkg:pypi/zope-interface"),
        ("pkg:pypi/Flask__Login-.x@1?extension=whl", "pkg:pypi/flask-login-x"),
        ("pkg:pypi/typing--extensions@4", "pkg:pypi/typing-extensions"),
        ("pkg:pypi/python-dateutil@2.9", "pkg:pypi/python-dateutil"),
        # npm: scope and name lowercased, the scope's @ always percent-encoded
        ("pkg:npm/%40Angular/Core@17.0.0", "pkg:npm/%40angular/core"),
        ("pkg:npm/@angular/core@17.0.0", "pkg:npm/%40angular/core"),
        ("pkg:npm/@angular/core", "pkg:npm/%40angular/core"),
        ("pkg:npm/Left-Pad@1.3.0", "pkg:npm/left-pad"),
        # ... and however the scope's "/" is written (percent-encoded into the name)
        (
            "pkg:npm/%40cypress%2Flistr-verbose-renderer@0.4.1",
            "pkg:npm/%40cypress/listr-verbose-renderer",
        ),
        (
            "pkg:npm/@cypress%2Flistr-verbose-renderer@0.4.1",
            "pkg:npm/%40cypress/listr-verbose-renderer",
        ),
        ("pkg:npm/@Types%2fNode", "pkg:npm/%40types/node"),
        # Maven is case-sensitive: kept as given
        (
            "pkg:maven/org.Apache.Commons/Commons-Lang3@3.12?type=jar",
            "pkg:maven/org.Apache.Commons/Commons-Lang3",
        ),
        # Go: the purl type definition makes namespace and name case-insensitive
        ("pkg:golang/github.com/Sirupsen/logrus@v1.9.0", "pkg:golang/github.com/sirupsen/logrus"),
        ("pkg:golang/golang.org/x/text@v0.3.0#unicode", "pkg:golang/golang.org/x/text"),
        ("pkg:github/Package-URL/Purl-Spec@v1", "pkg:github/package-url/purl-spec"),
        ("pkg:bitbucket/Birkenfeld/Pygments@1", "pkg:bitbucket/birkenfeld/pygments"),
        # rpm, cargo, nuget: names are case-sensitive, namespaces are not
        ("pkg:rpm/Fedora/Curl@7.50.3-1.fc25?arch=i386", "pkg:rpm/fedora/Curl"),
        ("pkg:cargo/Inflector@0.11.4", "pkg:cargo/Inflector"),
        ("pkg:nuget/Newtonsoft.Json@13.0.1", "pkg:nuget/Newtonsoft.Json"),
        # Debian and Alpine; the pkg:alpine alias some scanners write
        ("pkg:deb/Debian/LibC6@2.31?arch=amd64", "pkg:deb/debian/libc6"),
        ("pkg:apk/alpine/musl@1.2.2-r0?arch=x86_64", "pkg:apk/alpine/musl"),
        ("pkg:alpine/musl@1.2.2-r0?arch=x86_64", "pkg:apk/alpine/musl"),
        ("pkg:alpine/Alpine/musl@1.2.2-r0", "pkg:apk/alpine/musl"),
        # percent-encoding is decoded, then re-encoded one canonical way
        ("pkg:generic/openssl%20fips@3.0", "pkg:generic/openssl%20fips"),
        ("pkg:generic/caf%C3%A9@1", "pkg:generic/caf%C3%A9"),
        (
            "pkg:oci/debian@sha256%3A244fd47e07d10?repository_url=docker.io/library/debian",
            "pkg:oci/debian",
        ),
        ("pkg:composer/Laravel/Framework@7.12.0", "pkg:composer/laravel/framework"),
        # a namespace packed into the name, for types that have namespaces
        ("pkg:composer/laravel%2Fframework@7.12.0", "pkg:composer/laravel/framework"),
        ("pkg:golang/github.com%2FGorilla%2Fmux@v1.8.0", "pkg:golang/github.com/gorilla/mux"),
        ("pkg:golang/github.com/gorilla%2Fmux@v1.8.0", "pkg:golang/github.com/gorilla/mux"),
        ("pkg:github/package-url%2Fpurl-spec@v1", "pkg:github/package-url/purl-spec"),
        (
            "pkg:maven/org.apache.commons%2Fcommons-lang3@3.12",
            "pkg:maven/org.apache.commons/commons-lang3",
        ),
        ("pkg:alpine/main%2Fmusl@1.2.2-r0", "pkg:apk/main/musl"),
        ("pkg:generic/@acme/tool@1.0", "pkg:generic/%40acme/tool"),
        # ... but a type without namespaces keeps the "/" in the name
        ("pkg:pypi/a%2Fb@1", "pkg:pypi/a%2Fb"),
        ("pkg:cargo/a%2Fb@1", "pkg:cargo/a%2Fb"),
        ("pkg:gem/Rails@7.0", "pkg:gem/rails"),
        ("pkg:cpan/gdt/URI-PackageURL@2", "pkg:cpan/GDT/URI-PackageURL"),
        ("pkg:NPM/X@1", "pkg:npm/x"),  # the type is case-insensitive
        (
            "pkg:swid/Acme/example.com/Enterprise+Server@ED",
            "pkg:swid/Acme/example.com/Enterprise%2BServer",
        ),
    ],
)
def test_package_keys(purl: str, key: str) -> None:
    assert package_identity(purl).package_key == key


def test_ecosystem_is_the_type_after_aliasing() -> None:
    identity = package_identity("pkg:alpine/busybox@1.36")
    assert (identity.ecosystem, identity.aliased_from) == ("apk", "alpine")
    assert package_identity("pkg:pypi/x@1").ecosystem == "pypi"


@pytest.mark.parametrize(
    "purl", ["not a purl", "pkg:", "pkg:npm/", "pkg:9abc/x@1", "npm/left-pad@1"]
)
def test_unparseable_purls_give_an_error_not_a_key(purl: str) -> None:
    identity = package_identity(purl)
    assert identity.package_key is None
    assert identity.error


def test_keys_parse_back_to_the_same_package() -> None:
    for purl in (
        "pkg:npm/%40scope/name@1",
        "pkg:golang/github.com/a/b/v2@v2.0.0",
        "pkg:generic/a%2Fb",
    ):
        key = package_identity(purl).package_key
        assert package_identity(key).package_key == key
        parsed = PackageURL.from_string(key)
        assert parsed.version is None and not parsed.qualifiers


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["npm", "Maven", "golang", "x.y-z", "a+b", "9bad", "", "pypi "]),
    st.text(alphabet="aZ09._~-/@%:+? #", max_size=24),
)
def test_the_direct_split_agrees_with_packageurl(ptype: str, path: str) -> None:
    """Plain heads skip the library; for them both must read the same parts."""
    head = f"pkg:{ptype}/{path}"
    if purls_module._PLAIN_HEAD.fullmatch(head) is None:
        return
    expected = PackageURL.from_string(head, normalize_purl=False)
    assert purls_module.split_head(head) == (
        expected.type,
        expected.namespace or None,
        expected.name,
    )


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["npm", "NPM", "maven", "x.y-z"]),
    st.sampled_from(["@", "%40"]),
    st.text(alphabet="aZ09._~-", min_size=1, max_size=8),
    st.text(alphabet="aZ09._~-", min_size=1, max_size=8),
)
def test_the_direct_split_of_a_scoped_head_agrees_with_packageurl(
    ptype: str, at: str, scope: str, name: str
) -> None:
    """Scoped heads skip the library too; it reads them with the "@" encoded."""
    head = f"pkg:{ptype}/{at}{scope}/{name}"
    expected = PackageURL.from_string(head.replace("@", "%40"), normalize_purl=False)
    assert purls_module.split_head(head) == (
        expected.type,
        expected.namespace or None,
        expected.name,
    )


_SEGMENT = st.text(alphabet=string.ascii_letters + string.digits + ".-_", min_size=1, max_size=8)


@st.composite
def _spellings(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A package of a type with namespaces, and several ways of writing its purl."""
    ptype = draw(st.sampled_from(["npm", "maven", "golang", "github", "composer", "deb", "swift"]))
    if ptype == "npm":
        namespace = [f"@{draw(_SEGMENT)}"] if draw(st.booleans()) else []
    else:
        namespace = draw(st.lists(_SEGMENT, min_size=1, max_size=3))
    parts = [*namespace, draw(_SEGMENT)]
    spellings = []
    for _ in range(4):
        # Each "/" raw or percent-encoded (either case), the scope's "@" raw or encoded,
        # letter case changed where the type ignores it, with or without version,
        # qualifiers and subpath.
        path = parts[0]
        for part in parts[1:]:
            path += draw(st.sampled_from(["/", "%2F", "%2f"])) + part
        if path.startswith("@") and draw(st.booleans()):
            path = "%40" + path[1:]
        if ptype not in ("maven", "swift") and draw(st.booleans()):
            path = path.swapcase()
        suffix = draw(st.sampled_from(["", "@1.0.0", "@v2.0.0?arch=x86_64", "@1#sub/dir"]))
        spellings.append(f"pkg:{ptype}/{path}{suffix}")
    canonical = f"pkg:{ptype}/{'/'.join(parts)}".replace("@", "%40")
    return canonical, spellings


@settings(max_examples=300, deadline=None)
@given(_spellings())
def test_every_spelling_of_a_package_gets_one_key(case: tuple[str, list[str]]) -> None:
    canonical, spellings = case
    key = package_identity(canonical).package_key
    assert key is not None and "%2F" not in key
    assert {package_identity(purl).package_key for purl in spellings} == {key}


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(["pkg:npm/", "pkg:Maven/org.x/", "pkg:pypi/", " pkg:npm/", "pkg:a+b/"]),
    st.text(alphabet="aZ09._~-/@%?# \n", max_size=24),
)
def test_a_plain_purl_is_read_as_the_general_way_reads_it(prefix: str, rest: str) -> None:
    """Plain purls take one match for their head and its parts; nothing else changes."""
    purl = prefix + rest
    plain = purls_module._PLAIN_PURL.match(purl)
    if plain is not None:
        assert plain[0] == purls_module._purl_head(purl)
    assert purls_module.PackageIdentities().of(purl) == package_identity(purl)


def test_the_library_parses_each_package_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = PackageURL.from_string.__func__  # type: ignore[attr-defined]

    def counting(cls: type, purl: str, normalize_purl: bool = True) -> PackageURL:
        calls.append(purl)
        return original(cls, purl, normalize_purl)

    monkeypatch.setattr(PackageURL, "from_string", classmethod(counting))
    identities = purls_module.PackageIdentities()
    for version in range(20):  # the "+" keeps these heads off the direct split
        identities.of(f"pkg:npm/%40once/only%2Bx@{version}.0.0?tarball=x")
        identities.of(f"pkg:npm/@once/only%2bx@{version}.0.0")
    assert len(calls) == 2  # one per distinct spelling of the package, not per version
    assert identities.of("pkg:npm/@once/only%2bx@9") == package_identity("pkg:npm/@once/only%2bx")


@pytest.mark.parametrize(
    ("component", "identity"),
    [
        (Component(ref="r", name="Acme-Lib", version="1.0"), "name:acme-lib"),
        (Component(ref="r", name="Lib", group="Org.Example"), "name:org.example/lib"),
        (
            Component(ref="r", name="OpenSSL", cpe="cpe:2.3:a:OpenSSL:openssl:3.0.1:*:*:*:*:*:*:*"),
            "name:openssl|cpe:openssl:openssl",
        ),
        (Component(ref="r", name="x", cpe="cpe:/a:acme:thing:1.0"), "name:x|cpe:acme:thing"),
        (Component(ref="only-ref", name=None), "ref:only-ref"),
        (Component(ref="r", name="x", package_key="pkg:npm/x"), "pkg:npm/x"),
    ],
)
def test_fallback_identity_ignores_version(component: Component, identity: str) -> None:
    assert component.identity == identity
