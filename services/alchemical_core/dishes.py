"""Ingredient lists → elements: the mean/weighted form of ``/calculate/elemental`` and the dish pipeline
(domain.md §5). Every name goes through the catalog's resolver; unresolved names are reported, never
dropped silently; when nothing resolves the caller gets a 422 naming ``ingredients``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.alchemy import ELEMENTS
from shared.alchemy.elements import mass_weighted_sign_elements, weighted_mean
from shared.alchemy.recipe import recipe_elements
from shared.catalog.resolver import IngredientResolver
from shared.catalog.units import to_grams
from shared.errors import InvalidInput

from .schemas import IngredientIn


@dataclass
class ResolvedLines:
    """The resolved lines: (index, input name, ingredient, grams or None) and the unresolved names."""

    resolved: list[dict[str, Any]] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    unknown_units: list[str] = field(default_factory=list)
    profiles: list[Mapping[str, float]] = field(default_factory=list)
    grams: list[float] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class DishResult:
    elements: dict[str, float]
    resolved: list[dict[str, Any]]
    unresolved: list[str]
    unknown_units: list[str]


def resolve_items(
    resolver: IngredientResolver, items: Sequence[IngredientIn], *, grams_needed: bool = True
) -> ResolvedLines:
    """Resolve each line; grams (amount × unit, domain.md §5) only when the caller weighs by quantity."""
    out = ResolvedLines()
    for index, item in enumerate(items):
        name, amount, unit = item.name, item.amount, item.unit
        resolution = resolver.resolve(name)
        ingredient = resolution.ingredient
        if ingredient is None:
            out.unresolved.append(name)
            continue
        grams: float | None = None
        if grams_needed:
            converted = to_grams(amount, unit, ingredient, name=name)
            grams = converted.grams
            if unit and not converted.known:
                out.unknown_units.append(unit)
        elements = ingredient.elements.as_dict()
        out.resolved.append(
            {
                "input": name,
                "slug": ingredient.slug,
                "name": ingredient.name,
                "matchedBy": resolution.matched_by,
                "grams": grams,
                "elements": elements,
            }
        )
        out.profiles.append(elements)
        out.grams.append(grams if grams is not None else 0.0)
        out.indices.append(index)
    if not out.resolved:
        raise InvalidInput(
            "ingredients",
            "none of the ingredients is in the catalog: " + ", ".join(repr(n) for n in out.unresolved[:10]),
        )
    return out


def dominant(elements: Mapping[str, float]) -> str:
    """Largest element; ties in the canonical order Fire, Water, Earth, Air."""
    best = ELEMENTS[0]
    for element in ELEMENTS[1:]:
        if elements[element] > elements[best]:
            best = element
    return best


def mean_elements(
    resolver: IngredientResolver, items: Sequence[IngredientIn], weights: Sequence[float] | None
) -> tuple[dict[str, float], ResolvedLines, str]:
    """``/calculate/elemental``: caller weights, else quantity-weighted when any amount is given, else the
    plain mean of the resolved ingredients' (normalised) elements; normalised to sum 1."""
    by_quantity = weights is None and any(item.amount is not None for item in items)
    lines = resolve_items(resolver, items, grams_needed=by_quantity)
    if weights is not None:
        w = [weights[i] for i in lines.indices]
        method = "weights"
        if not any(x > 0 for x in w):
            raise InvalidInput("weights", "every resolved ingredient has weight 0")
    elif by_quantity:
        w = lines.grams
        method = "quantity_weighted"
    else:
        w = None
        method = "mean"
    for i, entry in enumerate(lines.resolved):
        entry["weight"] = w[i] if w is not None else None
    return weighted_mean(lines.profiles, w), lines, method


def dish_elements(
    resolver: IngredientResolver, items: Sequence[IngredientIn], sky_chart: Mapping[str, Any]
) -> DishResult:
    """The dish pipeline: Σ f(grams)·E, then 0.7·raw + 0.3·mass-weighted sky sign elements (no methods)."""
    lines = resolve_items(resolver, items)
    sky = mass_weighted_sign_elements(sky_chart)
    elements = recipe_elements(list(zip(lines.grams, lines.profiles, strict=True)), sky, ())
    return DishResult(elements, lines.resolved, lines.unresolved, lines.unknown_units)
