"""Catalog views: recipe / ingredient lists with search, filters and pagination, and detail records.

Orders are deterministic: without a text query, by name (case-folded) then id/slug; with ``q``, recipes whose
*name* contains every query word first, then the rest, each group by name then id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.alchemy import normalize, recipe_elements_detail, thermodynamics
from shared.catalog.models import Cuisine, Sauce
from shared.catalog.text import fold
from shared.catalog.vocab import cuisine_slug
from shared.errors import NotFound

from .filters import RecipeFilter, TermRef
from .index import IngredientEntry, KitchenIndex, RecipeEntry
from .recommend import recipe_summary
from .sky import SkyContext

__all__ = [
    "cuisine_detail",
    "cuisine_list",
    "ingredient_detail",
    "ingredient_list",
    "recipe_detail",
    "recipe_list",
    "sauce_detail",
    "sauce_list",
]


def _page(items: Sequence[Any], limit: int, offset: int) -> Sequence[Any]:
    return items[offset : offset + limit]


def recipe_list(
    index: KitchenIndex, flt: RecipeFilter, limit: int, offset: int, name_words: tuple[str, ...] = ()
) -> dict[str, Any]:
    ordered = index.by_name
    matches: Sequence[RecipeEntry] = ordered if flt.is_empty else [e for e in ordered if flt.accepts(e)]
    if name_words:  # recipes whose name holds every query word first (stable: name order within groups)
        first = [e for e in matches if all(" " + w in e.name_text for w in name_words)]
        named = {e.id for e in first}
        matches = first + [e for e in matches if e.id not in named]
    items = []
    for e in _page(matches, limit, offset):
        summary = recipe_summary(e)
        summary["curated_elements"] = e.recipe.elements.as_dict()
        summary["ruling_planet"] = e.ruling.planet
        items.append(summary)
    return {
        "recipes": items,
        "items": items,
        "total_count": len(matches),
        "limit": limit,
        "offset": offset,
        "filters": flt.as_dict(),
    }


def recipe_detail(entry: RecipeEntry, sky: SkyContext) -> dict[str, Any]:
    """The full record with elements and thermodynamics recomputed for the sky (never the stored values)."""
    recipe = entry.recipe
    detail = recipe_elements_detail(entry.pipeline, sky.mass_elements, entry.methods)
    final = detail.final
    s, e, m, su = sky.esms
    thermo = thermodynamics(s, e, m, su, final["Fire"], final["Water"], final["Earth"], final["Air"])
    body = recipe.to_dict()
    body.pop("elements", None)
    body.update(
        {
            "curated_elements": recipe.elements.as_dict(),
            "elements": {
                "normalized": normalize(final),
                "final": dict(final),
                "raw": dict(detail.raw),
                "combined": dict(detail.combined),
                "skyShare": dict(sky.mass_elements),
                "appliedMethods": list(detail.applied_methods),
                "unknownMethods": list(entry.unknown_methods),
                "regime": "recipe_pipeline",
            },
            "thermodynamics": {
                **thermo.as_dict(),
                "esms": sky.alchemy.esms.totals,
                "esmsSource": "sky",
                "at": sky.at.isoformat().replace("+00:00", "Z"),
                "isDiurnal": sky.diurnal,
            },
            "ingredient_lines": [line.as_dict() for line in entry.lines],
            "resolution": {"resolved": entry.resolved_lines, "foodLines": entry.food_lines},
            "diet": entry.diet.to_dict(),
            "diet_tags": sorted(entry.diets_ok),
            "diet_unknown": list(entry.diets_unknown),
            "diet_notes": list(entry.diet_notes),
            "difficulty": entry.difficulty,
            "difficulty_label": entry.difficulty_label,
            "ruling_planet": entry.ruling.as_dict(),
            "ruling_planet_now": sky.planets[entry.ruling.planet].as_dict(),
            "method_affinity": entry.method_affinity,
            "url": f"/api/kitchen/recipes/{entry.id}",
        }
    )
    return body


def _ingredient_summary(entry: IngredientEntry) -> dict[str, Any]:
    ing = entry.ingredient
    return {
        "slug": entry.slug,
        "name": entry.name,
        "category": entry.category,
        "subcategory": ing.subcategory,
        "elements": ing.elements.as_dict(),
        "dominantElement": entry.dominant,
        "rulingPlanets": list(ing.ruling_planets),
        "seasons": list(ing.seasons),
        "recipeCount": entry.recipe_count,
        "diet": list(ing.diet.true_flags()),
    }


def ingredient_list(
    index: KitchenIndex,
    q: str | None,
    categories: tuple[str, ...],
    elements: tuple[str, ...],
    limit: int,
    offset: int,
) -> dict[str, Any]:
    words = TermRef.words_of(q) if q else ()
    matches = []
    for entry in index.ingredients:
        if categories and entry.category not in categories:
            continue
        if elements and entry.dominant not in elements:
            continue
        if words and not all(" " + w in entry.search_text for w in words):
            continue
        matches.append(entry)

    def order(e: IngredientEntry) -> tuple[int, str, str]:
        exact = 0 if words and tuple(e.words) == words else 1
        return (exact, fold(e.name), e.slug)

    matches.sort(key=order)
    items = [_ingredient_summary(e) for e in _page(matches, limit, offset)]
    return {
        "ingredients": items,
        "items": items,
        "total_count": len(matches),
        "limit": limit,
        "offset": offset,
    }


def ingredient_detail(index: KitchenIndex, slug_or_name: str) -> dict[str, Any]:
    ing = index.ingredient(slug_or_name)
    if ing is None:
        raise NotFound(f"no ingredient {slug_or_name!r} in the catalog")
    entry = index.ingredient_by_slug[ing.slug]
    body = ing.to_dict()
    body.update(
        {
            "dominantElement": entry.dominant,
            "recipeCount": entry.recipe_count,
            "requested": slug_or_name,
            "aliasUsed": ing.slug != slug_or_name,
        }
    )
    return body


def _cuisine_summary(index: KitchenIndex, c: Cuisine) -> dict[str, Any]:
    return {
        "id": c.slug,
        "slug": c.slug,
        "name": c.name,
        "description": c.description,
        "elements": c.elements.as_dict(),
        "dominantElement": c.elements.dominant,
        "recipeCount": index.cuisine_counts.get(c.slug, 0),
        "sauceCount": len(c.sauces),
        "planets": list(c.planets),
        "signs": list(c.signs),
        "isStub": c.is_stub,
    }


def cuisine_list(index: KitchenIndex) -> dict[str, Any]:
    items = [
        _cuisine_summary(index, c) for c in sorted(index.catalog.cuisines.values(), key=lambda c: c.slug)
    ]
    return {"cuisines": items, "items": items, "total_count": len(items)}


def cuisine_detail(index: KitchenIndex, slug: str) -> dict[str, Any]:
    c = index.catalog.cuisines.get(slug) or index.catalog.cuisines.get(cuisine_slug(slug))
    if c is None:
        raise NotFound(f"no cuisine {slug!r}")
    body = c.to_dict()
    body.update(_cuisine_summary(index, c))
    body["recipes"] = [
        {"id": e.id, "name": e.name, "meal_types": list(e.recipe.meal_types)}
        for e in sorted(
            (e for e in index.recipes if e.cuisine_slug == c.slug), key=lambda e: (fold(e.name), e.id)
        )
    ]
    return body


def _sauce_summary(s: Sauce) -> dict[str, Any]:
    return {
        "id": s.slug,
        "slug": s.slug,
        "name": s.name,
        "description": s.description,
        "base": s.base,
        "cuisine": s.cuisine.name if s.cuisine else None,
        "cuisine_slug": s.cuisine.slug if s.cuisine else None,
        "elements": s.elements.as_dict(),
        "dominantElement": s.elements.dominant,
        "keyIngredients": list(s.key_ingredients),
        "planets": list(s.planets),
        "seasons": list(s.seasons),
    }


def sauce_list(index: KitchenIndex, cuisine: str | None = None) -> dict[str, Any]:
    sauces = sorted(index.catalog.sauces.values(), key=lambda s: s.slug)
    if cuisine:
        sauces = [s for s in sauces if s.cuisine is not None and s.cuisine.slug == cuisine]
    items = [_sauce_summary(s) for s in sauces]
    return {"sauces": items, "items": items, "total_count": len(items)}


def sauce_detail(index: KitchenIndex, slug: str) -> dict[str, Any]:
    sauce = index.catalog.sauces.get(slug) or index.catalog.sauces.get(slug.replace("-", "").lower())
    if sauce is None:
        raise NotFound(f"no sauce {slug!r}")
    body = sauce.to_dict()
    body.update(_sauce_summary(sauce))
    return body
