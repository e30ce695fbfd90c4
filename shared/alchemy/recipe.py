"""Elements of a dish: the recipe pipeline (design/domain.md §5; domain-analysis §1.5).

    f(q)      = min(1, ln(1 + q/100) / ln 11)      q in grams, q ≤ 0 → 0  (``log(1 + q/100)``, not log1p)
    raw       = Σ_i f(q_i) · E_i                   E_i the ingredient's normalised elements
    combined  = 0.7 · raw + 0.3 · sky              sky = mass-weighted sign elements of the sky
    final     = combined × Π method multipliers    in the recipe's method order, no re-normalisation

What this module does **not** do (the catalog package's job): converting amounts to grams, counting a
missing or zero amount as 1 and a missing unit as g, resolving ingredient names, and normalising method
names ("sautéing", "pan-frying" …) to the canonical keys of :data:`COOKING_METHOD_MODIFIERS`. Unknown
method names are skipped here and returned in :attr:`RecipeElements.unknown_methods` for the caller to
report.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from shared.alchemy.constants import ELEMENTS

__all__ = [
    "COOKING_METHOD_MODIFIERS",
    "RecipeElements",
    "quantity_scale",
    "recipe_elements",
    "recipe_elements_detail",
]

_LN_11: Final = math.log(1 + 10)


def quantity_scale(grams: float) -> float:
    """f(q) = min(1, ln(1 + q/100)/ln 11): 100 g → ≈0.289, 1000 g and above → 1; q ≤ 0 (or NaN) → 0."""
    if not grams > 0:
        return 0.0
    return min(1.0, math.log(1 + grams / 100) / _LN_11)


def _mods(fire: float, water: float, earth: float, air: float) -> MappingProxyType[str, float]:
    return MappingProxyType({"Fire": fire, "Water": water, "Earth": earth, "Air": air})


#: Multiplicative element modifiers per canonical cooking method (domain-analysis §1.5), F/W/E/A.
COOKING_METHOD_MODIFIERS: Final = MappingProxyType(
    {
        "grilling": _mods(1.4, 0.6, 0.9, 1.1),
        "roasting": _mods(1.3, 0.7, 1.0, 1.0),
        "baking": _mods(1.2, 0.8, 1.1, 0.9),
        "broiling": _mods(1.5, 0.5, 0.8, 1.2),
        "searing": _mods(1.6, 0.4, 0.9, 1.1),
        "boiling": _mods(0.7, 1.3, 0.8, 1.0),
        "steaming": _mods(0.6, 1.4, 0.9, 1.1),
        "poaching": _mods(0.5, 1.5, 1.0, 0.8),
        "simmering": _mods(0.8, 1.2, 0.9, 1.0),
        "braising": _mods(0.9, 1.1, 1.0, 0.8),
        "stewing": _mods(0.8, 1.2, 1.1, 0.7),
        "stir-frying": _mods(1.3, 0.8, 0.9, 1.2),
        "sauteing": _mods(1.2, 0.8, 0.9, 1.1),
        "frying": _mods(1.4, 0.6, 0.9, 1.1),
        "deep-frying": _mods(1.5, 0.5, 0.8, 1.2),
        "fermenting": _mods(0.6, 1.2, 1.3, 0.9),
        "pickling": _mods(0.7, 1.3, 1.1, 0.8),
        "curing": _mods(0.5, 0.9, 1.4, 0.7),
        "smoking": _mods(1.2, 0.6, 1.0, 1.3),
        "blending": _mods(0.9, 1.0, 0.8, 1.3),
        "pureeing": _mods(0.8, 1.1, 0.7, 1.4),
        "whisking": _mods(0.9, 0.9, 0.7, 1.5),
        "kneading": _mods(0.8, 1.0, 1.4, 0.8),
        "rolling": _mods(0.9, 0.9, 1.3, 0.9),
        "raw": _mods(1.0, 1.0, 1.0, 1.0),
        "chopping": _mods(1.0, 0.95, 1.0, 1.05),
        "slicing": _mods(1.0, 0.95, 1.0, 1.05),
        "marinating": _mods(0.8, 1.2, 1.0, 1.0),
    }
)


@dataclass(frozen=True, slots=True)
class RecipeElements:
    """Every stage of the pipeline (raw and unnormalised throughout; normalise for display if needed)."""

    raw: Mapping[str, float]
    combined: Mapping[str, float]
    final: Mapping[str, float]
    applied_methods: tuple[str, ...]
    unknown_methods: tuple[str, ...]


def _value(profile: Mapping[str, float], element: str) -> float:
    v = profile.get(element, 0.0)
    return v if math.isfinite(v) else 0.0


def recipe_elements_detail(
    lines: Sequence[tuple[float, Mapping[str, float]]],
    sky_elements: Mapping[str, float],
    methods: Sequence[str],
) -> RecipeElements:
    """The pipeline with its intermediate stages (see the module docstring for the formulas).

    ``lines`` are ``(grams, normalised ingredient elements)``; ``sky_elements`` the mass-weighted sign
    elements of the sky (:func:`shared.alchemy.elements.mass_weighted_sign_elements`); ``methods`` canonical
    method names (matched exactly, then lowercased), applied in order. Non-finite element values count as 0.
    """
    raw = dict.fromkeys(ELEMENTS, 0.0)
    for grams, profile in lines:
        f = quantity_scale(grams)
        for el in ELEMENTS:
            raw[el] += f * _value(profile, el)
    combined = {el: 0.7 * raw[el] + 0.3 * _value(sky_elements, el) for el in ELEMENTS}
    final = dict(combined)
    applied: list[str] = []
    unknown: list[str] = []
    for method in methods:
        mods = COOKING_METHOD_MODIFIERS.get(method)
        if mods is None and isinstance(method, str):
            mods = COOKING_METHOD_MODIFIERS.get(method.strip().lower())
        if mods is None:
            unknown.append(method)
            continue
        applied.append(method)
        for el in ELEMENTS:
            final[el] = final[el] * mods[el]
    return RecipeElements(
        raw=MappingProxyType(raw),
        combined=MappingProxyType(combined),
        final=MappingProxyType(final),
        applied_methods=tuple(applied),
        unknown_methods=tuple(unknown),
    )


def recipe_elements(
    lines: Sequence[tuple[float, Mapping[str, float]]],
    sky_elements: Mapping[str, float],
    methods: Sequence[str],
) -> dict[str, float]:
    """Final (unnormalised) elements of a dish (domain.md §5); unknown method names are ignored."""
    return dict(recipe_elements_detail(lines, sky_elements, methods).final)
