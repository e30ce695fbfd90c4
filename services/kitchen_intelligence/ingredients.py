"""Ingredient recommendations: catalog ingredients ranked for a moment (or for the caller's elements).

    score = 0.45·elemental + 0.35·planetary + 0.20·seasonal                       (each in [0, 1])

* elemental — cosine of the ingredient's elements with the sky's body-weighted sign elements (as for recipes),
  or :func:`shared.alchemy.profile_compatibility` with the caller's desired/current elements;
* planetary — mean over the ingredient's classical ruling planets of ``min(1, dignity now + hour bonus)``
  (sign-level dignity as in the recipe score; +0.2 when the planet rules the current planetary hour, +0.1
  when the hour's ruler is its friend); 0.5 when it has no classical ruler;
* seasonal — 1 when the current season (meteorological, flipped south of the equator) is one of its seasons,
  0.2 when it is not, 0.5 when the data states none.

Filters (hard): categories, dominant element(s), dietary restrictions (the ingredient's own diet flags),
season, excluded ingredients. Ties are broken by slug.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from shared.alchemy import ELEMENTS, profile_compatibility
from shared.catalog.diet import DIETS as DIET_FLAGS
from shared.errors import InvalidInput

from .filters import TermRef, normalize_diets, normalize_seasons
from .index import IngredientEntry, KitchenIndex
from .inputs import Location
from .recommend import ALGORITHM_VERSION, SERVICE_LABEL, resolve_terms
from .scoring import cosine4, hour_bonus, sign_dignity
from .sky import SkyContext

__all__ = ["INGREDIENT_WEIGHTS", "IngredientQuery", "rank_ingredients"]

INGREDIENT_WEIGHTS: Final = {"elemental": 0.45, "planetary": 0.35, "seasonal": 0.20}
_ROUND = 4


@dataclass(frozen=True, slots=True)
class IngredientQuery:
    location: Location
    target: tuple[float, float, float, float] | None
    categories: tuple[str, ...]
    elements: tuple[str, ...]
    diets: tuple[str, ...]
    seasons: tuple[str, ...]
    exclude: tuple[TermRef, ...]
    limit: int
    offset: int


def normalize_categories(index: KitchenIndex, values: Sequence[str], field: str) -> tuple[str, ...]:
    known = {i.category for i in index.ingredients}
    out: set[str] = set()
    for value in values:
        key = value.strip().lower().replace(" ", "_").replace("-", "_")
        if key not in known:
            raise InvalidInput(field, f"unknown category {value!r}; known: {', '.join(sorted(known))}")
        out.add(key)
    return tuple(sorted(out))


def normalize_element_names(values: Sequence[str], field: str) -> tuple[str, ...]:
    out: set[str] = set()
    for value in values:
        name = value.strip().capitalize()
        if name not in ELEMENTS:
            raise InvalidInput(field, f"unknown element {value!r}; known: {', '.join(ELEMENTS)}")
        out.add(name)
    return tuple(el for el in ELEMENTS if el in out)


def build_query(
    index: KitchenIndex,
    location: Location,
    target: tuple[float, float, float, float] | None,
    *,
    categories: Sequence[str] = (),
    elements: Sequence[str] = (),
    diets: Sequence[str] = (),
    seasons: Sequence[str] = (),
    exclude: Sequence[str] = (),
    limit: int = 24,
    offset: int = 0,
) -> IngredientQuery:
    return IngredientQuery(
        location=location,
        target=target,
        categories=normalize_categories(index, categories, "category"),
        elements=normalize_element_names(elements, "element"),
        diets=normalize_diets(diets, "dietary_restrictions"),
        seasons=normalize_seasons(seasons, "season"),
        exclude=resolve_terms(index, exclude),
        limit=limit,
        offset=offset,
    )


def _accepts(entry: IngredientEntry, q: IngredientQuery) -> bool:
    if q.categories and entry.category not in q.categories:
        return False
    if q.elements and entry.dominant not in q.elements:
        return False
    if q.seasons and entry.seasons.isdisjoint(q.seasons):
        return False
    flags = entry.ingredient.diet
    for diet in q.diets:
        if any(getattr(flags, f) for f in DIET_FLAGS[diet]):
            return False
    for term in q.exclude:
        if term.slug is not None and term.slug == entry.slug:
            return False
        if term.words and term.words == entry.words:
            return False
    return True


def _planetary(entry: IngredientEntry, sky: SkyContext) -> tuple[float, list[dict[str, Any]]]:
    if not entry.rulers:
        return 0.5, []
    values = []
    detail = []
    for planet in entry.rulers:
        pos = sky.positions[planet]
        dignity = sign_dignity(planet, pos.sign)
        bonus = hour_bonus(sky.hour.planet, planet)
        values.append(min(1.0, dignity + bonus))
        detail.append({"planet": planet, "sign": pos.sign, "dignity": dignity, "hourBonus": bonus})
    return sum(values) / len(values), detail


def _seasonal(entry: IngredientEntry, season: str) -> float:
    if not entry.seasons:
        return 0.5
    return 1.0 if season in entry.seasons else 0.2


def _reasons(
    entry: IngredientEntry,
    sky: SkyContext,
    elemental: float,
    seasonal: float,
    rulers: list[dict[str, Any]],
    caller: bool,
) -> list[str]:
    out: list[str] = []
    for r in rulers:
        if r["hourBonus"] >= 0.2:
            out.append(f"{r['planet']} rules this hour and rules {entry.name}")
        if r["dignity"] >= 0.9:
            out.append(f"Its ruler {r['planet']} is strong in {str(r['sign']).capitalize()}")
    if seasonal >= 1.0:
        out.append(f"In season ({sky.season})")
    elif seasonal <= 0.2:
        out.append(f"Out of season ({sky.season})")
    if caller:
        if elemental >= 0.85:
            out.append("Close to the elements you asked for")
    elif elemental >= 0.85:
        out.append(
            f"{entry.dominant}-rich like the sky now"
            if entry.dominant == sky.dominant
            else "Its elements harmonise with the sky now"
        )
    return out[:4] or ["A steady choice now"]


def rank_ingredients(index: KitchenIndex, q: IngredientQuery, sky: SkyContext) -> dict[str, Any]:
    target_map: Mapping[str, float] | None = (
        dict(zip(ELEMENTS, q.target, strict=True)) if q.target is not None else None
    )
    w = INGREDIENT_WEIGHTS
    rows: list[tuple[float, str, IngredientEntry, float, float, float, list[dict[str, Any]]]] = []
    for entry in index.ingredients:
        if not _accepts(entry, q):
            continue
        if target_map is None:
            elemental = cosine4(entry.elements, sky.weighted, sky.weighted_norm)
        else:
            elemental = profile_compatibility(dict(zip(ELEMENTS, entry.elements, strict=True)), target_map)
        planetary, rulers = _planetary(entry, sky)
        seasonal = _seasonal(entry, sky.season)
        score = w["elemental"] * elemental + w["planetary"] * planetary + w["seasonal"] * seasonal
        rows.append((score, entry.slug, entry, elemental, planetary, seasonal, rulers))
    rows.sort(key=lambda r: (-r[0], r[1]))
    page = rows[q.offset : q.offset + q.limit]
    items = []
    for rank, (score, _slug, entry, elemental, planetary, seasonal, rulers) in enumerate(page, q.offset + 1):
        ing = entry.ingredient
        items.append(
            {
                "rank": rank,
                "ingredient": {
                    "slug": entry.slug,
                    "name": entry.name,
                    "category": entry.category,
                    "elements": ing.elements.as_dict(),
                    "dominantElement": entry.dominant,
                    "rulingPlanets": list(ing.ruling_planets),
                    "seasons": list(ing.seasons),
                    "recipeCount": entry.recipe_count,
                },
                "score": round(score, _ROUND),
                "breakdown": {
                    "elemental": round(elemental, _ROUND),
                    "planetary": round(planetary, _ROUND),
                    "seasonal": seasonal,
                    "weights": dict(w),
                    "rulers": rulers,
                    "elementalMode": "caller_elements_compatibility"
                    if q.target is not None
                    else "sky_cosine",
                },
                "reasons": _reasons(entry, sky, elemental, seasonal, rulers, q.target is not None),
            }
        )
    return {
        "ingredients": items,
        "total_count": len(rows),
        "limit": q.limit,
        "offset": q.offset,
        "request_context": {
            "timestamp": sky.at.isoformat().replace("+00:00", "Z"),
            "location": q.location.as_dict(),
            "elemental_state": (
                dict(zip(ELEMENTS, q.target, strict=True)) if q.target is not None else sky.elements_dict()
            ),
            "season": sky.season,
            "filters": {
                "categories": list(q.categories),
                "elements": list(q.elements),
                "diets": list(q.diets),
                "seasons": list(q.seasons),
                "excludedIngredients": [{"input": t.text, "slug": t.slug} for t in q.exclude],
            },
            "planetary_hour": sky.hour_dict(),
        },
        "metadata": {
            "service": SERVICE_LABEL,
            "algorithm_version": ALGORITHM_VERSION,
            "calculation_method": "ingredient_elemental_planetary_seasonal",
        },
    }
