"""Repository URL normalization: every spelling registries use, and what must be refused."""

from __future__ import annotations

import pytest

from service.core.addresses import is_forbidden_host
from service.projects.urls import RepoRef, normalize_repo_url

ACCEPTED = [
    # plain and decorated https
    ("https://github.com/pallets/flask", "github.com/pallets/flask"),
    ("https://github.com/Pallets/Flask", "github.com/pallets/flask"),
    ("http://github.com/pallets/flask", "github.com/pallets/flask"),
    ("https://www.github.com/pallets/flask/", "github.com/pallets/flask"),
    ("https://GitHub.com/pallets/flask.git", "github.com/pallets/flask"),
    ("https://github.com/pallets/flask.git/", "github.com/pallets/flask"),
    ("https://github.com/pallets/flask#readme", "github.com/pallets/flask"),
    ("https://github.com/pallets/flask?tab=readme-ov-file", "github.com/pallets/flask"),
    ("https://github.com/pallets/flask/tree/main/src/flask", "github.com/pallets/flask"),
    ("https://github.com/pallets/flask/blob/main/README.md", "github.com/pallets/flask"),
    ("https://github.com/pallets/flask/issues", "github.com/pallets/flask"),
    ("https://github.com:443/pallets/flask", "github.com/pallets/flask"),
    ("https://user@github.com/pallets/flask", "github.com/pallets/flask"),
    ("  https://github.com/pallets/flask  ", "github.com/pallets/flask"),
    # git and ssh spellings
    ("git+https://github.com/babel/babel.git", "github.com/babel/babel"),
    ("git+ssh://git@github.com/babel/babel.git", "github.com/babel/babel"),
    ("ssh://git@github.com/babel/babel.git", "github.com/babel/babel"),
    ("ssh://git@github.com:babel/babel.git", "github.com/babel/babel"),
    ("git://github.com/babel/babel.git", "github.com/babel/babel"),
    ("git@github.com:babel/babel.git", "github.com/babel/babel"),
    ("git@github.com:Babel/Babel", "github.com/babel/babel"),
    # Maven SCM
    ("scm:git:git://github.com/apache/commons-lang.git", "github.com/apache/commons-lang"),
    ("scm:git:https://github.com/apache/commons-lang", "github.com/apache/commons-lang"),
    ("scm:git:git@github.com:apache/commons-lang.git", "github.com/apache/commons-lang"),
    # shorthands
    ("github:sindresorhus/got", "github.com/sindresorhus/got"),
    ("sindresorhus/got", "github.com/sindresorhus/got"),
    ("sindresorhus/got#v11", "github.com/sindresorhus/got"),
    ("gitlab:group/project", "gitlab.com/group/project"),
    ("bitbucket:team/repo", "bitbucket.org/team/repo"),
    ("github.com/spf13/cobra", "github.com/spf13/cobra"),
    ("github.com/spf13/cobra/v2", "github.com/spf13/cobra"),
    # other forges
    ("https://gitlab.com/gitlab-org/gitlab", "gitlab.com/gitlab-org/gitlab"),
    ("https://gitlab.com/group/sub/project", "gitlab.com/group/sub/project"),
    ("https://gitlab.com/Group/Sub/Project.git", "gitlab.com/group/sub/project"),
    ("https://gitlab.com/group/sub/project/-/tree/main", "gitlab.com/group/sub/project"),
    ("https://gitlab.com/group/project/tree/master", "gitlab.com/group/project"),
    ("https://gitlab.gnome.org/GNOME/gtk", "gitlab.gnome.org/GNOME/gtk"),
    ("https://bitbucket.org/Atlassian/Repo/src/master/", "bitbucket.org/atlassian/repo"),
    ("https://codeberg.org/forgejo/forgejo", "codeberg.org/forgejo/forgejo"),
    ("https://git.sr.ht/~sircmpwn/scdoc", "git.sr.ht/~sircmpwn/scdoc"),
    ("https://salsa.debian.org/debian/dpkg", "salsa.debian.org/debian/dpkg"),
]

REFUSED = [
    None,
    "",
    "   ",
    42,
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "file:///etc/passwd",
    "data:text/html,<script>",
    "mailto:someone@example.org",
    "ftp://github.com/a/b",
    "https://127.0.0.1/owner/name",
    "http://10.0.0.1/owner/name",
    "http://[::1]/owner/name",
    "https://localhost/owner/name",
    "https://repo.localhost/owner/name",
    "https://intranet/owner/name",
    "git@127.0.0.1:owner/name.git",
    "https://github.com/",
    "https://github.com/pallets",
    "https://github.com/sponsors/pallets",
    "https://github.com/orgs/pallets/people",
    "https://github.com/topics/python",
    "https://github.com/pallets/..",
    "https://github.com/a%2Fb/c",
    "https://github.com/a b/c",
    "https://www.python.org/downloads/release",
    "https://docs.example.org/project/requests/",
    "https://requests.readthedocs.io",
    "gist:11081aaa281",
    "https://github.com:notaport/a/b",
    "https://" + "a" * 3000 + ".com/x/y",
]


@pytest.mark.parametrize(("url", "key"), ACCEPTED)
def test_accepted_spellings(url, key):
    ref = normalize_repo_url(url)
    assert ref is not None, url
    assert ref.key == key


@pytest.mark.parametrize("url", REFUSED)
def test_refused(url):
    assert normalize_repo_url(url) is None


def test_repo_ref_shape():
    ref = normalize_repo_url("git+ssh://git@gitlab.com/Group/Sub/Proj.git")
    assert ref == RepoRef("gitlab.com", "group/sub", "proj")
    assert ref.url == "https://gitlab.com/group/sub/proj"
    assert str(ref) == "gitlab.com/group/sub/proj"


def test_unknown_hosts_need_explicit_permission():
    assert normalize_repo_url("https://ghe.corp.example/team/tool") is None
    ref = normalize_repo_url("https://ghe.corp.example/team/Tool", extra_hosts=["ghe.corp.example"])
    assert ref is not None and ref.key == "ghe.corp.example/team/Tool"
    anything = normalize_repo_url("https://forge.example.net/a/b", allow_unknown_hosts=True)
    assert anything is not None and anything.key == "forge.example.net/a/b"


def test_case_is_kept_on_hosts_that_are_case_sensitive():
    ref = normalize_repo_url("https://git.sr.ht/~SirCmpwn/SCDoc")
    assert ref is not None and ref.key == "git.sr.ht/~SirCmpwn/SCDoc"


def test_self_hosted_gitlab_keeps_subgroups():
    ref = normalize_repo_url("https://gitlab.example.org/a/b/c/-/blob/main/x.py")
    assert ref is not None and ref.key == "gitlab.example.org/a/b/c"


@pytest.mark.parametrize(
    ("host", "forbidden"),
    [
        ("127.0.0.1", True),
        ("[::1]", True),
        ("localhost", True),
        ("db.internal", True),
        ("printer.local", True),
        ("intranet", True),
        ("github.com", False),
    ],
)
def test_is_forbidden_host(host, forbidden):
    assert is_forbidden_host(host) is forbidden
