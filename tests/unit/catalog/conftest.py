from __future__ import annotations

import pytest

from shared.catalog import Catalog, IngredientResolver, get_catalog, get_resolver
from shared.catalog.audit import Coverage, measure_coverage


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return get_catalog()


@pytest.fixture(scope="session")
def resolver() -> IngredientResolver:
    return get_resolver()


@pytest.fixture(scope="session")
def coverage(catalog: Catalog, resolver: IngredientResolver) -> Coverage:
    return measure_coverage(catalog, resolver)
