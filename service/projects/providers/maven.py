"""Maven Central: the POM of the version in use, or the latest one.

``scm/url`` (or ``scm/connection``), ``url`` and ``developers`` come from the POM;
when the POM has no SCM block its ``parent`` POMs are read, up to a small limit, with
Maven's inheritance rule that a child's inherited SCM URL gains ``/<artifactId>``.

A repository serves one document per version and no package document, so when the
SBOMs name a version its POM is the one request made.  Only a package known without a
version costs two: ``maven-metadata.xml`` (which also gives the release facts: latest
version, version count, last update), then the latest POM.  XML is parsed with
defusedxml (no entity expansion, no external entities).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any, Protocol
from xml.etree.ElementTree import Element

from service.core.fetch_results import FetchError, FetchResult
from service.projects.providers.base import (
    BaseProvider,
    CachedEntry,
    PackageMetadata,
    PackageRef,
    Person,
    ProviderResult,
    parse_xml,
    web_url,
)

DEFAULT_BASE_URL = "https://repo1.maven.org/maven2"
MAX_PARENTS = 3
PARENT_CACHE_SIZE = 2000
_PROPERTY_RE = re.compile(r"\$\{([^}]+)\}")
_SEGMENT_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


def _text(node: Element | None, path: str) -> str | None:
    if node is None:
        return None
    found = node.find(path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


class ParentPoms(Protocol):
    """Parent POMs kept for every process (by ``group:artifact:version``)."""

    def get(self, coordinates: str) -> bytes | None: ...

    def put(self, coordinates: str, pom: bytes) -> None: ...

    def drop(self, coordinates: str) -> None: ...


class MavenProvider(BaseProvider):
    """Metadata from a Maven repository layout (Maven Central by default)."""

    source = "maven"
    types = frozenset({"maven"})

    def __init__(self, *args: Any, parents: ParentPoms | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A released POM never changes, and many artifacts share one parent: each parent
        # is read once, however many children (and runs, and processes with ``parents``)
        # climb to it.
        self._parents: OrderedDict[str, Element] = OrderedDict()
        self._parents_lock = threading.Lock()
        self._stored = parents

    def _fetch(self, ref: PackageRef, cached: CachedEntry | None) -> ProviderResult:
        group, artifact = ref.namespace or "", ref.name
        if not group or not _SEGMENT_RE.match(group) or not _SEGMENT_RE.match(artifact):
            return self._failure(ref.key, "invalid_package_key", self._now())
        if ref.version and _SEGMENT_RE.match(ref.version):
            try:
                return self._fetch_version(ref, cached)
            except FetchError as exc:
                if exc.reason != "http_404":
                    raise
                # A version the repository lacks (a private build, a typo): use the latest.
        meta_url = f"{self._artifact_dir(group, artifact)}/maven-metadata.xml"
        # Validators of a version's POM say nothing about maven-metadata.xml.
        result = self._get(meta_url, cached if cached and _latest_known(cached) else None)
        if result.not_modified:
            return self._not_modified(ref, cached, result)
        metadata_xml = parse_xml(result.body)
        if metadata_xml is None:
            return self._failure(ref.key, "invalid_xml", self._now())
        versions = [
            v.text.strip()
            for v in metadata_xml.findall("versioning/versions/version")
            if v.text and v.text.strip()
        ]
        latest = (
            _text(metadata_xml, "versioning/release")
            or _text(metadata_xml, "versioning/latest")
            or (versions[-1] if versions else None)
        )
        if not latest or not _SEGMENT_RE.match(latest):
            return self._failure(ref.key, "no_release", self._now())
        updated = _maven_timestamp(_text(metadata_xml, "versioning/lastUpdated"))

        warnings: list[str] = []
        pom_url = self._pom_url(group, artifact, latest)
        pom = self._fetch_pom(pom_url)
        if pom is None:
            return self._failure(ref.key, "invalid_xml", self._now())
        metadata = self._from_pom(
            pom,
            ref,
            pom_url,
            warnings,
            latest_version=latest,
            latest_release_at=updated,
            release_count=len(versions) or None,
        )
        return self._success(ref, metadata, result, warnings)

    def _fetch_version(self, ref: PackageRef, cached: CachedEntry | None) -> ProviderResult:
        """One request: the POM of the version the SBOMs name (no release facts)."""
        group, artifact, version = ref.namespace or "", ref.name, ref.version or ""
        pom_url = self._pom_url(group, artifact, version)
        # Validators of another version's POM say nothing about this one.
        same = bool(cached and cached.metadata and cached.metadata.raw_source_url == pom_url)
        result = self._get(pom_url, cached if same else None)
        if result.not_modified:
            return self._not_modified(ref, cached, result)
        pom = parse_xml(result.body)
        if pom is None:
            return self._failure(ref.key, "invalid_xml", self._now())
        warnings: list[str] = []
        metadata = self._from_pom(pom, ref, pom_url, warnings)
        return self._success(ref, metadata, result, warnings)

    def _from_pom(
        self,
        pom: Element,
        ref: PackageRef,
        pom_url: str,
        warnings: list[str],
        **release_facts: Any,
    ) -> PackageMetadata:
        """Repository, homepage and developers of a POM (parents climbed as needed)."""
        scm_url, homepage, developers = self._walk(pom, ref.namespace or "", ref.name, warnings)
        repo = self._repo(scm_url, homepage)
        return PackageMetadata(
            repository_url=repo.url if repo else None,
            repository_provenance="metadata" if repo else None,
            homepage=web_url(homepage),
            maintainers=tuple(developers),
            raw_source_url=pom_url,
            **release_facts,
        )

    def _artifact_dir(self, group: str, artifact: str) -> str:
        return f"{self.base_url}/{group.replace('.', '/')}/{artifact}"

    def _pom_url(self, group: str, artifact: str, version: str) -> str:
        return f"{self._artifact_dir(group, artifact)}/{version}/{artifact}-{version}.pom"

    def _get(self, url: str, validators: CachedEntry | None) -> FetchResult:
        """GET a document, conditionally when the cached answer came from the same one."""
        return self.client.get(
            url,
            validators.etag if validators else None,
            validators.last_modified if validators else None,
            source=self.source,
        )

    def _fetch_pom(self, url: str) -> Element | None:
        return parse_xml(self._get(url, None).body)

    def _parent_pom(self, group: str, artifact: str, version: str) -> Element | None:
        """A parent POM: from this process, else from the store, else asked (and kept)."""
        coordinates = f"{group}:{artifact}:{version}"
        with self._parents_lock:
            if coordinates in self._parents:
                self._parents.move_to_end(coordinates)
                return self._parents[coordinates]
        released = not version.endswith("-SNAPSHOT")
        stored = self._stored if released else None
        body = stored.get(coordinates) if stored else None
        pom: Element | None = None
        if body is not None:
            pom = parse_xml(body)
        else:
            try:
                body = self._get(self._pom_url(group, artifact, version), None).body
                pom = parse_xml(body)
            finally:  # what others climbing to it wait for (or, failed: ask themselves)
                if stored and pom is not None and body is not None:
                    stored.put(coordinates, body)
                elif stored:
                    stored.drop(coordinates)
        if pom is not None and released:
            with self._parents_lock:
                self._parents[coordinates] = pom
                while len(self._parents) > PARENT_CACHE_SIZE:
                    self._parents.popitem(last=False)
        return pom

    def _walk(
        self, pom: Element, group_id: str, artifact: str, warnings: list[str]
    ) -> tuple[str | None, str | None, list[Person]]:
        """Read SCM URL, homepage and developers, climbing parent POMs when needed.

        Only parents of the same groupId are climbed: organisation-wide parents
        (``org.apache:apache``, ``org.sonatype.oss:oss-parent``) carry their own SCM
        block, which would attribute every child to the parent's repository.
        """
        scm_url, homepage, developers = self._read(pom)
        suffix: list[str] = []
        current, current_artifact = pom, artifact
        for _ in range(MAX_PARENTS):
            if scm_url:
                break
            suffix.insert(0, current_artifact)
            group = _text(current, "parent/groupId")
            parent_artifact = _text(current, "parent/artifactId")
            version = _text(current, "parent/version")
            if not (group and parent_artifact and version):
                break
            if group != group_id:
                break
            if not all(_SEGMENT_RE.match(s) for s in (group, parent_artifact, version)):
                break
            try:
                parent = self._parent_pom(group, parent_artifact, version)
            except FetchError as exc:
                warnings.append(f"parent pom: {exc.reason}")
                break
            if parent is None:
                break
            p_scm, p_home, p_devs = self._read(parent)
            if p_scm:
                # Maven appends the child's artifactId to an inherited SCM URL.
                scm_url = p_scm.rstrip("/") + "/" + "/".join(suffix)
            homepage = homepage or p_home
            developers = developers or p_devs
            current, current_artifact = parent, parent_artifact
        return scm_url, homepage, developers

    def _read(self, pom: Element) -> tuple[str | None, str | None, list[Person]]:
        props = {
            "project.artifactId": _text(pom, "artifactId") or "",
            "artifactId": _text(pom, "artifactId") or "",
            "project.groupId": _text(pom, "groupId") or _text(pom, "parent/groupId") or "",
            "project.version": _text(pom, "version") or _text(pom, "parent/version") or "",
        }
        properties = pom.find("properties")
        if properties is not None:
            for child in properties:
                if isinstance(child.tag, str) and child.text:
                    props.setdefault(child.tag, child.text.strip())
        homepage = _interpolate(_text(pom, "url"), props)
        if homepage:
            props["project.url"] = homepage
        scm = None
        for path in ("scm/url", "scm/connection", "scm/developerConnection"):
            scm = _interpolate(_text(pom, path), props)
            if scm and "${" not in scm:
                break
            scm = None
        developers = []
        for dev in pom.findall("developers/developer"):
            login = _text(dev, "id")
            name = _text(dev, "name")
            email = _text(dev, "email")
            if login or name or email:
                developers.append(
                    Person(login=login, name=name, email=email, role="developer", source="maven")
                )
        return scm, homepage, developers


def _latest_known(cached: CachedEntry) -> bool:
    """Whether the cached answer came from maven-metadata.xml (it names the latest)."""
    return cached.metadata is not None and cached.metadata.latest_version is not None


def _interpolate(value: str | None, props: dict[str, str]) -> str | None:
    if not value:
        return None
    return _PROPERTY_RE.sub(lambda m: props.get(m.group(1), m.group(0)), value)


def _maven_timestamp(value: str | None) -> datetime | None:
    """maven-metadata ``lastUpdated`` is ``yyyyMMddHHmmss`` in UTC."""
    if not value or not value.isdigit() or len(value) != 14:
        return None
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None
