"""Typed catalog of the alchm.kitchen data set (pure: no DB, no HTTP).

Typical use::

    from shared.catalog import get_catalog, get_resolver, recipe_diets, to_grams, normalize_method

    catalog = get_catalog()                      # validated, frozen, cached per process
    resolver = get_resolver()                    # built once from the catalog
    res = resolver.resolve("2 cups chopped fresh basil leaves")   # -> basil, matched_by="descriptors"
    report = recipe_diets(catalog.recipes[some_id], resolver)     # vegetarian / vegan / … verdicts
    to_grams(2, "tbsp")                          # GramsResult(grams=30.0, unit_canonical="tbsp", known=True…)
    normalize_method("Pan-frying")               # "frying"

See docs/catalog.md for the model, the defects handled and the rules.
"""

from __future__ import annotations

from functools import lru_cache

from shared.catalog.diet import DIETS, DietReport, DietRules, DietVerdict, LineIssue, diet_rules, recipe_diets
from shared.catalog.loader import DATA_DIR, CatalogLoadError, get_catalog, load_catalog
from shared.catalog.methods import CANONICAL_METHODS, normalize_method
from shared.catalog.models import (
    AstroAffinities,
    Catalog,
    CookingTechnique,
    Cuisine,
    CuisineRef,
    DietFlags,
    Elements,
    Ingredient,
    IngredientLine,
    LoadReport,
    MethodRef,
    NutritionSummary,
    Recipe,
    RecipeNutrition,
    RegionalCuisine,
    Sauce,
    Substitution,
)
from shared.catalog.resolver import IngredientResolver, Resolution
from shared.catalog.units import GramsResult, parse_unit, to_grams

__all__ = [
    "CANONICAL_METHODS",
    "DATA_DIR",
    "DIETS",
    "AstroAffinities",
    "Catalog",
    "CatalogLoadError",
    "CookingTechnique",
    "Cuisine",
    "CuisineRef",
    "DietFlags",
    "DietReport",
    "DietRules",
    "DietVerdict",
    "Elements",
    "GramsResult",
    "Ingredient",
    "IngredientLine",
    "IngredientResolver",
    "LineIssue",
    "LoadReport",
    "MethodRef",
    "NutritionSummary",
    "Recipe",
    "RecipeNutrition",
    "RegionalCuisine",
    "Resolution",
    "Sauce",
    "Substitution",
    "diet_rules",
    "get_catalog",
    "get_resolver",
    "load_catalog",
    "normalize_method",
    "parse_unit",
    "recipe_diets",
    "to_grams",
]


@lru_cache(maxsize=1)
def get_resolver() -> IngredientResolver:
    """The resolver over :func:`get_catalog`, built once per process."""
    return IngredientResolver(get_catalog())
