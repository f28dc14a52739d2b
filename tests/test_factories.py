"""Every model has a builder in tests/factories.py, and each builds a valid row alone."""

from __future__ import annotations

import re

import pytest
from sqlmodel import SQLModel

from service.domains import import_models
from tests import factories


def _models() -> list[type[SQLModel]]:
    import_models()  # every domain's, not only those the factories know
    found = {m.class_ for m in SQLModel._sa_registry.mappers}
    return sorted(found, key=lambda model: model.__name__)


def _builder(model: type[SQLModel]):
    name = "make_" + re.sub(r"(?<!^)(?=[A-Z])", "_", model.__name__).lower()
    return getattr(factories, name.replace("git_hub", "github"), None)


def test_every_model_has_a_builder():
    assert [m.__name__ for m in _models() if _builder(m) is None] == []


@pytest.mark.parametrize("model", _models(), ids=lambda model: model.__name__)
def test_each_builder_saves_a_row_of_its_model(session, model):
    row = _builder(model)(session)
    assert type(row) is model
    assert all(value is not None for value in model.__mapper__.primary_key_from_instance(row))
