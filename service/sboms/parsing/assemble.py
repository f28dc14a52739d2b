"""Collects what a format reader finds and assembles one ParsedSbom.

Every reader (CycloneDX, SPDX 2, SPDX 3) feeds the same builder, so reference checks,
purl identity, warnings and depth are decided once, here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from itertools import chain

from .graph import compute_depths
from .model import Component, ParsedSbom, ParseLimits, SbomError
from .purls import PackageIdentities

# ISO 8601 date-time as the specs write it: seconds, optional fraction, zone.
_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?P<fraction>\.\d+)?(?P<zone>Z|[+-]\d{2}:?\d{2})?"
)
_MAX_WARNING_LINES = 50  # report size stays bounded whatever the document holds
# Placeholders SPDX uses for "we do not know": never a hint or a reference.
NO_VALUE = frozenset({"NOASSERTION", "NONE", ""})
# A dependency graph: each source's distinct targets, as the keys of a dict (ordered).
_Children = dict[str, dict[str, None]]
_NUMBER = (int, float)


def text(value: object) -> str | None:
    """Return a field as text: strings stripped, numbers formatted, anything else None."""
    if type(value) is str:  # the common cases first: this runs for every field
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, _NUMBER) and not isinstance(value, bool):
        return str(value)
    return None


def as_list(value: object) -> list:
    """Return a JSON array field as a list; a lone object counts as a one-item list."""
    if isinstance(value, list):
        return value
    if value is None:
        return []
    return [value]


def pairs(
    items: object, first: str, second: str, *, only: frozenset[str] | None = None
) -> list[tuple[str, str]]:
    """Return (item[first], item[second]) for the objects of a list that have both.

    With `only`, items whose first field is not one of those values are skipped before
    their second field is read.
    """
    found = []
    for item in as_list(items):
        if type(item) is not dict:
            continue
        key = item.get(first)
        key = key.strip() if type(key) is str else text(key)  # strings nearly always
        if not key or (only is not None and key not in only):
            continue
        value = item.get(second)
        value = value.strip() if type(value) is str else text(value)
        if value:
            found.append((key, value))
    return found


def kind_of(value: object) -> str:
    """Name a JSON value's type for messages ("an object", "a string" ...)."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return "a boolean" if isinstance(value, bool) else "a number"


def collection(doc: dict, key: str) -> list:
    """Return a top-level array; a document whose array is something else is unreadable."""
    return entries(doc.get(key), key)


def entries(value: object, key: str) -> list:
    """Return the value of the top-level array `key` (None: empty), or refuse the document."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise SbomError(
            "invalid_document", f"{key}: expected an array, got {kind_of(value)}", {"field": key}
        )
    return value


class DocumentBuilder:
    """Accumulates components, nodes, edges, roots and warnings for one document."""

    def __init__(self, limits: ParseLimits) -> None:
        self.limits = limits
        self.components: list[Component] = []
        self._component_refs: dict[str, Component] = {}
        self._identities = PackageIdentities()
        # A reader may give a component's place as its number, which this names only when
        # a message (or a component without a ref) needs it: a big document lists a
        # hundred thousand components.
        self.component_place: Callable[[int], str] = str
        self._nodes: set[str] = set()  # referable elements that are not components
        self._roots: list[str] = []
        # Dependencies as stated, checked at build: whole lists (CycloneDX dependsOn) and
        # single edges (SPDX relationships), each with its place in the document: a name,
        # or the number of a statement that `statement_place` names (only a message needs
        # the name, and a big document states a hundred thousand edges).
        self._edge_lists: list[tuple[str, list[str], str]] = []
        self._edges: list[tuple[str, str]] = []
        self._edge_places: list[str | int] = []  # where each of `_edges` was stated
        self.statement_place: Callable[[int], str] = str
        self._listed: list[str] = []  # refs with a dependency entry, even an empty one
        self._warnings: dict[str, list] = {}  # category -> [first message, count]

    # -- warnings -------------------------------------------------------------------

    def warn(self, category: str, message: str) -> None:
        """Record a warning; repeats of a category are counted, not listed."""
        entry = self._warnings.get(category)
        if entry is None:
            if len(self._warnings) >= _MAX_WARNING_LINES:  # keep a hostile document's
                category, message = "more", "further warnings of other kinds were left out"
                entry = self._warnings.get(category)
            if entry is None:
                self._warnings[category] = [message, 1]
                return
        entry[1] += 1

    def check_timestamp(self, value: str | None, where: str, *, spdx: bool) -> None:
        """Warn about timestamps the spec does not allow (the value is kept as given).

        SPDX requires YYYY-MM-DDThh:mm:ssZ; CycloneDX allows any RFC 3339 date-time, so
        only a missing zone is odd there.
        """
        if value is None:
            return
        match = _TIMESTAMP.fullmatch(value)
        if match is None:
            self.warn("timestamp", f"{where}: {value!r} is not an ISO 8601 date-time")
        elif match["zone"] is None:
            self.warn("timestamp", f"{where}: {value!r} has no time zone; read as UTC")
        elif spdx and match["fraction"]:
            self.warn(
                "timestamp",
                f"{where}: {value!r} has fractional seconds; SPDX expects YYYY-MM-DDThh:mm:ssZ",
            )
        elif spdx and match["zone"] != "Z":
            self.warn("timestamp", f"{where}: {value!r} is not in UTC ('Z'), as SPDX expects")

    # -- elements -------------------------------------------------------------------

    def place_of(self, where: str | int) -> str:
        """A component's place as given by its reader: a name, or a number to name."""
        return where if isinstance(where, str) else self.component_place(where)

    def add_component(
        self, component: Component, where: str | int, purl_field: str | None = None
    ) -> Component:
        """Register a component read at `where` (its place for messages, or its number
        for `component_place`).

        Readers leave `ref` empty when the document gives none; the JSON path then
        serves, which is stable for a given document. The package key and ecosystem
        come from the first purl that parses; `purl_field` names the field purls come
        from, so a message can point at it (`components[3].purl`).
        """
        if len(self.components) >= self.limits.max_components:
            raise SbomError(
                "too_many_components",
                f"The document lists more than {self.limits.max_components} components "
                f"(limit reached at {self.place_of(where)})",
                {"limit": self.limits.max_components},
            )
        ref = component.ref
        if not ref:
            ref = component.ref = self.place_of(where)
        if self._component_refs.setdefault(ref, component) is not component:
            where = self.place_of(where)
            self.warn(
                "duplicate_ref",
                f"{where}: reference {ref!r} is already used by another component; this "
                "one is kept under a suffixed reference and dependencies go to the first",
            )
            ref = component.ref = f"{ref}#{where}"
            self._component_refs[ref] = component
        for purl in component.purls:
            identity = self._identities.of(purl)
            if identity.error is not None:
                where = self.place_of(where)
                field = f"{where}.{purl_field}" if purl_field else f"{where}: purl"
                self.warn(
                    "bad_purl",
                    f"{field}: {purl!r} is not a valid purl ({identity.error}); the "
                    "component is kept without a package identity",
                )
                continue
            if identity.aliased_from is not None:
                self.warn(
                    "purl_alias",
                    f"{self.place_of(where)}: purl type {identity.aliased_from!r} is not a "
                    f"registered purl type; read as {identity.ecosystem!r} ({purl!r})",
                )
            component.package_key = identity.package_key
            component.ecosystem = identity.ecosystem
            break
        self.components.append(component)
        return component

    def add_node(self, ref: str) -> None:
        """Declare a referable element that is not a component (file, service, root ...)."""
        self._nodes.add(ref)

    def component(self, ref: str) -> Component | None:
        """The component registered under `ref`, if any."""
        return self._component_refs.get(ref)

    def is_known(self, ref: str) -> bool:
        return ref in self._component_refs or ref in self._nodes

    @property
    def roots(self) -> list[str]:
        """Roots declared so far, in document order."""
        return list(self._roots)

    def add_root(self, ref: str) -> None:
        if ref not in self._roots:
            self._roots.append(ref)

    # -- dependencies ---------------------------------------------------------------

    def add_edges(self, source: str, targets: list[str], where: str) -> None:
        """Record that `source` depends on each target; `where` names the list."""
        self._edge_lists.append((source, targets, where))

    def add_edge(self, source: str, target: str, where: str | int) -> None:
        """Record that `source` depends on `target`, as stated at `where` (a place, or a
        statement's number for `statement_place`)."""
        self._edges.append((source, target))
        self._edge_places.append(where)

    def list_entry(self, ref: str) -> None:
        """Record that the dependency data has an entry for `ref` (even an empty one)."""
        self._listed.append(ref)

    # -- result ---------------------------------------------------------------------

    def build(
        self,
        format: str,
        spec_version: str,
        encoding: str,
        *,
        root_name: str | None = None,
        serial: str | None = None,
        namespace: str | None = None,
        created: str | None = None,
        tools: Iterable[str] = (),
    ) -> ParsedSbom:
        """Check references, compute depths and return the document."""
        known = self._component_refs.keys() | self._nodes
        edges, children = self._dependency_graph(known)
        roots = []
        for ref in self._roots:
            if ref in known:
                roots.append(ref)
            else:
                self.warn(
                    "missing_root", f"the document describes {ref!r}, which it does not contain"
                )
        depths: dict[str, int] = {}
        basis = "unknown"
        if children:
            listed = [ref for ref in self._listed if ref in known]
            depths, basis = compute_depths(children, roots, listed)
        if basis == "graph-sources" and roots:
            self.warn(
                "root_without_edges",
                "the document's root has no dependency entry; components that nothing "
                "depends on are counted as its direct dependencies",
            )
        if depths:
            for component in self.components:
                component.depth = depths.get(component.ref)
        self._summarize_gaps()
        return ParsedSbom(
            format=format,
            spec_version=spec_version,
            encoding=encoding,
            components=self.components,
            root_refs=roots,
            root_name=root_name,
            edges=edges,
            has_dependency_graph=bool(edges),
            depth_basis=basis,
            warnings=[
                message if count == 1 else f"{message} (and {count - 1} more like it)"
                for message, count in self._warnings.values()
            ],
            serial=serial,
            namespace=namespace,
            created=created,
            tools=list(dict.fromkeys(tools)),
        )

    def _dependency_graph(self, known: set[str]) -> tuple[list[tuple[str, str]], _Children]:
        """Return (distinct edges, {source: {target: None}}) of the stated dependencies
        whose both ends are known, each source's targets in the order first stated; warn
        about the others."""
        if not self._edge_lists and not self._edges:
            return [], {}
        children: _Children = {}
        for source, targets, where in self._edge_lists:
            if source in known and known.issuperset(targets):  # the common case, at C speed
                valid = targets
            else:
                valid = []
                for position, target in enumerate(targets):
                    if source in known and target in known:
                        valid.append(target)
                    else:
                        self._missing_ref(f"{where}[{position}]", source, target, known)
            if valid:
                _add_targets(children, source, valid)
        single = _adjacency(self._edges)
        # Each source and each of its distinct targets checked once, at C speed.
        if not known.issuperset(single) or not known.issuperset(
            chain.from_iterable(single.values())
        ):  # rare: some end is unknown
            single = _adjacency(self._known_edges(known))
        if children:
            for source, stated in single.items():
                _add_targets(children, source, stated)
        else:
            children = single
        edges = [(source, target) for source, targets in children.items() for target in targets]
        return edges, children

    def _known_edges(self, known: set[str]) -> list[tuple[str, str]]:
        """The single edges whose both ends are known; a warning for each of the others."""
        valid = []
        for edge, stated in zip(self._edges, self._edge_places, strict=True):
            source, target = edge
            if source in known and target in known:
                valid.append(edge)
            else:
                place = stated if isinstance(stated, str) else self.statement_place(stated)
                self._missing_ref(place, source, target, known)
        return valid

    def _missing_ref(self, where: str, source: str, target: str, known: set[str]) -> None:
        missing = target if source in known else source
        self.warn(
            "missing_ref",
            f"{where}: {missing!r} is not a component or element of this document; "
            "the dependency is ignored",
        )

    def _summarize_gaps(self) -> None:
        """One warning each for components lacking a purl or a version."""
        total = len(self.components)
        if not total:
            return
        without_purl = sum(1 for c in self.components if not c.purls)
        if without_purl:
            self.warn(
                "no_purl",
                f"{without_purl} of {total} components have no purl; they keep their "
                "name/CPE identity and count as unresolved",
            )
        without_version = sum(1 for c in self.components if c.version is None)
        if without_version:
            self.warn("no_version", f"{without_version} of {total} components have no version")


def _adjacency(edges: Iterable[tuple[str, str]]) -> _Children:
    """Each source's distinct targets, in the order first stated."""
    children: _Children = {}
    targets_of = children.get  # one look-up an edge: most sources already have targets
    for source, target in edges:
        targets = targets_of(source)
        if targets is None:
            children[source] = {target: None}
        else:
            targets[target] = None
    return children


def _add_targets(children: _Children, source: str, targets: Iterable[str]) -> None:
    """Add targets to a source's, keeping each once."""
    children.setdefault(source, {}).update(dict.fromkeys(targets))
