"""Catalog backing for the runes: recommended ingredient names resolved through :mod:`shared.catalog`.

Every name in ``runes.json`` must resolve (a unit test checks it); an unresolved name is reported at load
time and left out of responses, never invented. Dietary restrictions filter resolved ingredients by the
catalog's :class:`~shared.catalog.models.DietFlags`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Final

from services.rune.runes import RuneSet, fold

__all__ = [
    "EXTRA_DIETS",
    "diet_rules",
    "KitchenIndex",
    "ResolvedIngredient",
    "build_kitchen_index",
    "get_kitchen_index",
    "normalize_restriction",
]

log = logging.getLogger("services.rune.kitchen")

#: Single-allergen diets of ours, added to the catalog's own table (:data:`shared.catalog.diet.DIETS`).
EXTRA_DIETS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "eggfree": ("is_egg",),
        "shellfishfree": ("is_shellfish",),
        "fishfree": ("is_fish", "is_shellfish"),
        "meatfree": ("is_meat", "is_poultry"),
    }
)


@lru_cache(maxsize=1)
def diet_rules() -> Mapping[str, tuple[str, ...]]:
    """Diet (lowercase letters only, e.g. ``glutenfree``) → the DietFlags fields that break it."""
    from shared.catalog.diet import DIETS

    return MappingProxyType({**{re.sub(r"[^a-z]", "", k): tuple(v) for k, v in DIETS.items()}, **EXTRA_DIETS})


_RESTRICTION_SYNONYMS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "veggie": "vegetarian",
        "lactovegetarian": "vegetarian",
        "ovovegetarian": "vegetarian",
        "plantbased": "vegan",
        "pescetarian": "pescatarian",
        "nogluten": "glutenfree",
        "celiac": "glutenfree",
        "coeliac": "glutenfree",
        "lactosefree": "dairyfree",
        "nodairy": "dairyfree",
        "noeggs": "eggfree",
        "noegg": "eggfree",
        "nonuts": "nutfree",
        "treenutfree": "nutfree",
        "peanutfree": "nutfree",
        "noshellfish": "shellfishfree",
        "nomeat": "meatfree",
    }
)


def normalize_restriction(text: str) -> str | None:
    """``"Gluten-Free"`` → ``"glutenfree"``; ``None`` when the restriction is not one we know."""
    key = re.sub(r"[^a-z]", "", fold(text))
    key = _RESTRICTION_SYNONYMS.get(key, key)
    return key if key in diet_rules() else None


@dataclass(frozen=True, slots=True)
class ResolvedIngredient:
    query: str
    slug: str
    name: str
    category: str
    diet: Any  # shared.catalog.models.DietFlags

    def to_dict(self) -> dict[str, str]:
        return {"slug": self.slug, "name": self.name, "category": self.category}


@dataclass(frozen=True, slots=True)
class KitchenIndex:
    """Each rune's recommended ingredients, resolved once."""

    by_rune: Mapping[str, tuple[ResolvedIngredient, ...]]
    unresolved: Mapping[str, tuple[str, ...]]

    def for_rune(self, name: str) -> tuple[ResolvedIngredient, ...]:
        return self.by_rune.get(name, ())

    def merged(self, rune_names: Iterable[str], limit: int | None = None) -> list[ResolvedIngredient]:
        """Ingredients of several runes in order, without duplicates (by slug)."""
        seen: set[str] = set()
        out: list[ResolvedIngredient] = []
        for name in rune_names:
            for item in self.for_rune(name):
                if item.slug not in seen:
                    seen.add(item.slug)
                    out.append(item)
        return out[:limit] if limit is not None else out


def filter_by_diet(
    items: Sequence[ResolvedIngredient], restrictions: Sequence[str]
) -> tuple[list[ResolvedIngredient], list[dict[str, Any]], list[str]]:
    """Split ``items`` into (kept, excluded with reasons) and list the restrictions we do not know."""
    known: list[str] = []
    unknown: list[str] = []
    for raw in restrictions:
        key = normalize_restriction(raw)
        if key is None:
            unknown.append(raw)
        elif key not in known:
            known.append(key)
    kept: list[ResolvedIngredient] = []
    excluded: list[dict[str, Any]] = []
    for item in items:
        broken = [k for k in known if any(getattr(item.diet, flag, False) for flag in diet_rules()[k])]
        if broken:
            excluded.append({**item.to_dict(), "excludedBy": broken})
        else:
            kept.append(item)
    return kept, excluded, unknown


def build_kitchen_index(rune_set: RuneSet, resolve: Callable[[str], Any]) -> KitchenIndex:
    """Resolve every rune's recommended names with ``resolve(name) -> Ingredient | None``."""
    by_rune: dict[str, tuple[ResolvedIngredient, ...]] = {}
    unresolved: dict[str, tuple[str, ...]] = {}
    for rune in rune_set.runes:
        found: list[ResolvedIngredient] = []
        missing: list[str] = []
        for query in rune.recommended_ingredients:
            ingredient = resolve(query)
            if ingredient is None:
                missing.append(query)
                continue
            if any(f.slug == ingredient.slug for f in found):
                continue
            found.append(
                ResolvedIngredient(
                    query=query,
                    slug=ingredient.slug,
                    name=ingredient.name,
                    category=ingredient.category,
                    diet=ingredient.diet,
                )
            )
        by_rune[rune.name] = tuple(found)
        if missing:
            unresolved[rune.name] = tuple(missing)
    if unresolved:
        log.warning("rune ingredients not found in the catalog: %s", unresolved)
    return KitchenIndex(by_rune=MappingProxyType(by_rune), unresolved=MappingProxyType(unresolved))


def catalog_resolver() -> Callable[[str], Any]:
    """``name -> Ingredient | None`` through the catalog's own resolver (loads the catalog once)."""
    from shared.catalog.loader import get_catalog
    from shared.catalog.resolver import IngredientResolver

    resolver = IngredientResolver(get_catalog())

    def resolve(name: str) -> Any:
        result = resolver.resolve(name)
        return getattr(result, "ingredient", None) if result is not None else None

    return resolve


@lru_cache(maxsize=1)
def get_kitchen_index() -> KitchenIndex:
    """The process-wide index over :func:`services.rune.runes.get_rune_set` and the shared catalog."""
    from services.rune.runes import get_rune_set

    return build_kitchen_index(get_rune_set(), catalog_resolver())
