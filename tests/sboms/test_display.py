"""How package keys and purls are shown: decoded, with their namespace."""

from service.sboms.views import decoded, package_name


def test_purls_are_decoded_and_names_keep_their_namespace():
    assert decoded("pkg:npm/%40types/node@20.1.0") == "pkg:npm/@types/node@20.1.0"
    assert decoded(None) == ""
    assert package_name("pkg:npm/%40types/node") == "@types/node"
    assert package_name("pkg:maven/org.slf4j/slf4j-api") == "org.slf4j/slf4j-api"
    assert package_name("pkg:pypi/requests") == "requests"
