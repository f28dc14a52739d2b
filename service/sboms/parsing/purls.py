"""Package identity: a purl without version, qualifiers and subpath, normalized by type.

Canonical form of a package key: `pkg:<type>/<namespace>/<name>` with the type lowercased,
each namespace segment and the name percent-encoded the way packageurl-python encodes
them (so an npm scope is always `%40scope`, never `@scope`), and case folded only where
the purl specification's type definitions call the namespace or name case-insensitive:

- lowercased namespace and name: alpm, apk, bitbucket, bitnami, composer, conan, conda,
  deb, docker, gem, github, gitlab, golang, hex, luarocks, npm, oci, pub, qpkg, pypi;
- lowercased namespace only: cargo, cocoapods, cran, hackage, nuget, rpm (their names
  are case-sensitive);
- case kept: maven, huggingface, swid, swift (case-sensitive); generic and mlflow (their
  case rules depend on where the package comes from) and types this table does not know.

A namespace packed into the name (`pkg:npm/%40scope%2Fname`, `pkg:golang/github.com%2Fa%2Fb`)
is unpacked for the types whose definition has a namespace, so every spelling of a
package gets one key; for the others (pypi, cargo, nuget ...) an encoded "/" stays part of
the name.

Type-specific rules on top: PyPI names per PEP 503 (runs of `-`, `_`, `.` become one
`-`), pub names map other characters to `_`, CPAN author ids are uppercase. `pkg:alpine/x`
is an alias written by some scanners and becomes `pkg:apk/alpine/x`.

Go module paths are case-sensitive for the Go toolchain, but the purl type definition
marks golang namespace and name case-insensitive; the key follows the purl spec, so
`github.com/Sirupsen/logrus` and `github.com/sirupsen/logrus` are one package (they are
one repository). The original purl is kept on the component for registry look-ups.
"""

from __future__ import annotations

import re

from msgspec import Struct

_FOLD_BOTH = frozenset(
    {
        "alpm", "apk", "bitbucket", "bitnami", "composer", "conan", "conda", "deb", "docker",
        "gem", "github", "gitlab", "golang", "hex", "luarocks", "npm", "oci", "pub", "qpkg",
        "pypi",
    }
)  # fmt: skip
_FOLD_NAMESPACE = frozenset({"cargo", "cocoapods", "cran", "hackage", "nuget", "rpm"})
# Types whose purl type definition has a namespace (required or optional): for them a "/"
# in the decoded name separates namespace segments, however it was written.
_HAS_NAMESPACE = frozenset(
    {
        "alpm", "apk", "bitbucket", "composer", "conan", "cpan", "deb", "docker", "generic",
        "github", "gitlab", "golang", "hex", "huggingface", "luarocks", "maven", "npm", "qpkg",
        "rpm", "swid", "swift",
    }
)  # fmt: skip
# type -> (canonical type, namespace to use when the purl has none)
_ALIASES: dict[str, tuple[str, str | None]] = {"alpine": ("apk", "alpine")}
_PEP503 = re.compile(r"[-_.]+")
_PUB_NAME = re.compile(r"[^a-z0-9]")
_PLAIN = re.compile(r"[A-Za-z0-9._~:-]*")  # characters percent-encoding leaves alone
_PLAIN_HEAD = re.compile(r"pkg:([A-Za-z][A-Za-z0-9.-]*)/([A-Za-z0-9._~-]+(?:/[A-Za-z0-9._~-]+)*)")
# A purl whose head is plain, matched up to the end of its head when what follows is only
# what `_purl_head` cuts (a version without "/" or "@", qualifiers, subpath): the match is
# the head `_purl_head` returns, as a property test checks.
_PLAIN_PURL = re.compile(_PLAIN_HEAD.pattern + r"(?=(?:@[^/@?#]*)?(?:[?#]|\Z))")
# A plain head under an npm-style scope, its "@" raw or encoded.
_SCOPED_HEAD = re.compile(
    r"pkg:([A-Za-z][A-Za-z0-9.-]*)/(?:@|%40)([A-Za-z0-9._~-]+)/([A-Za-z0-9._~-]+)"
)


class PurlIdentity(Struct, frozen=True, gc=False):
    """What a purl string says about package identity (a Struct: built for every
    distinct package of a document, several times faster than a named tuple)."""

    package_key: str | None
    ecosystem: str | None
    error: str | None = None  # why the purl could not be read
    aliased_from: str | None = None  # original type when an alias was applied


def package_identity(purl: str) -> PurlIdentity:
    """Return the package key and ecosystem of a purl string (a document's purls go
    through `PackageIdentities`, which parses each package once)."""
    return _identity_of_head(_purl_head(purl))


class PackageIdentities:
    """The package identities of one document's purls.

    They are kept by the purl's head (type/namespace/name), which every version and
    qualifier variant of a package shares, so each package is parsed once; the memo goes
    with the document rather than staying in the process.
    """

    def __init__(self) -> None:
        self._by_head: dict[str, PurlIdentity] = {}

    def of(self, purl: str) -> PurlIdentity:
        # A plain purl's head comes with its parts from one match (nearly every purl).
        plain = _PLAIN_PURL.match(purl)
        head = plain[0] if plain is not None else _purl_head(purl)
        identity = self._by_head.get(head)
        if identity is None:
            identity = _plain_identity(*plain.groups()) if plain else _identity_of_head(head)
            self._by_head[head] = identity
        return identity


def _purl_head(purl: str) -> str:
    """Cut subpath, qualifiers and version: what is left names the package.

    Many purls in one document share a head (every version of a package), so the
    expensive parse below is done once for it.
    """
    head = purl.strip().partition("#")[0].partition("?")[0]
    # The version separator is the last "@" after the last "/", with a name before it:
    # an npm scope's "@" precedes a "/", or starts the last segment when the scope's "/"
    # is percent-encoded (`@scope%2Fname`), and so is never taken for it.
    slash_at = head.rfind("/")
    at = head.rfind("@")
    if slash_at >= 0 and at > slash_at + 1:
        head = head[:at]
    return head


def split_head(head: str) -> tuple[str, str | None, str]:
    """Return (type, namespace, name) of a purl head, still percent-encoded.

    Heads made only of unreserved characters (no percent-encoding, colon, whitespace or
    empty segment), or of those under one npm scope (`@scope/name`, `%40scope/name`), are
    split directly: the result is what packageurl-python returns for them, as property
    tests check, at a fraction of the cost. Anything else is parsed by packageurl-python.
    Raises ValueError for strings that are not purls.
    """
    plain = _PLAIN_HEAD.fullmatch(head)
    if plain is not None:
        namespace, _, name = plain[2].rpartition("/")
        return plain[1].lower(), namespace or None, name
    scoped = _SCOPED_HEAD.fullmatch(head)
    if scoped is not None:
        return scoped[1].lower(), f"%40{scoped[2]}", scoped[3]
    # The version is cut already, so every "@" left belongs to a namespace or name;
    # encoded, none can be read as a version separator (the library reads an npm scope
    # only when its "/" is not encoded). normalize_purl=False skips the library's generic
    # normalization (it would run twice); the type rules in _identity_of_head replace it.
    from packageurl import PackageURL  # only here: plain heads, nearly all, never need it

    parsed = PackageURL.from_string(head.replace("@", "%40"), normalize_purl=False)
    return parsed.type, parsed.namespace or None, parsed.name


def _identity_of_head(head: str) -> PurlIdentity:
    plain = _PLAIN_HEAD.fullmatch(head)
    if plain is not None:
        return _plain_identity(*plain.groups())
    scoped = _SCOPED_HEAD.fullmatch(head)
    if scoped is not None:
        # The same under an npm-style scope, written with its "@" encoded: "%40scope" is
        # what encoding gives, and no case rule changes "%40".
        ptype, scope, name = scoped.groups()
        return _identity(ptype.lower(), f"%40{scope}", name, False)
    try:
        ptype, raw_namespace, raw_name = split_head(head)
    except (ValueError, UnicodeError) as exc:
        return PurlIdentity(None, None, error=str(exc) or "not a purl")
    segments = _decode(raw_namespace).split("/") if raw_namespace else []
    name = _decode(raw_name).strip().strip("/")
    canonical = _ALIASES[ptype][0] if ptype in _ALIASES else ptype
    if canonical in _HAS_NAMESPACE and "/" in name:  # a namespace packed into the name
        *packed, name = name.split("/")
        segments += packed
        name = name.strip()
    if not name:
        return PurlIdentity(None, None, error="the name is empty")
    namespace = "/".join(s for s in map(str.strip, segments) if s) or None
    return _identity(ptype, namespace, name, True)


def _plain_identity(ptype: str, path: str) -> PurlIdentity:
    """The identity of a head of unreserved characters only: nothing to decode or
    encode, no empty segment and no "/" in the name, so only the type's rules apply."""
    namespace, _, name = path.rpartition("/")
    return _identity(ptype.lower(), namespace or None, name, False)


def _identity(ptype: str, namespace: str | None, name: str, encoded: bool) -> PurlIdentity:
    """The identity of a decoded type, namespace and name: aliases, the type's case and
    name rules, then percent-encoding where the parts need it (`encoded`)."""
    aliased_from = None
    if ptype in _ALIASES:
        aliased_from = ptype
        ptype, default_namespace = _ALIASES[ptype]
        namespace = namespace or default_namespace
    if ptype in _FOLD_BOTH:
        name = name.lower()
        namespace = namespace.lower() if namespace else None
    elif ptype in _FOLD_NAMESPACE:
        namespace = namespace.lower() if namespace else None
    if ptype == "pypi":
        if "_" in name or "." in name or "--" in name:  # else PEP 503 leaves it as it is
            name = _PEP503.sub("-", name)
    elif ptype == "pub":
        name = _PUB_NAME.sub("_", name)
    elif ptype == "cpan" and namespace:
        namespace = namespace.upper()
    if encoded:
        parts = [_encode(segment) for segment in namespace.split("/")] if namespace else []
        parts.append(_encode(name))
        path = "/".join(parts)
    else:
        path = f"{namespace}/{name}" if namespace else name
    return PurlIdentity(f"pkg:{ptype}/{path}", ptype, None, aliased_from)


def _decode(part: str) -> str:
    if "%" not in part:
        return part
    from packageurl import unquote

    return unquote(part)


def _encode(part: str) -> str:
    """Percent-encode as packageurl-python does; a "/" inside a name stays encoded, or
    the key would read as namespace/name."""
    if _PLAIN.fullmatch(part):
        return part
    from packageurl import quote

    return quote(part).replace("/", "%2F")
