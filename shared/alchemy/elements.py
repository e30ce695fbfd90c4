"""Elements (Fire, Water, Earth, Air) of a sky and of element profiles (design/domain.md §1, §4, §5).

Two sky regimes, never mixed up:

* :func:`sky_element_totals` — the raw "0.6/0.4" totals fed to the sky's thermodynamics (domain.md §4):
  per body in Sun..Pluto order, +0.6 to its sign's element, then +0.4 to its sectarian element. Not
  normalised (the sum is 1 per body present).
* :func:`mass_weighted_sign_elements` — each body's sign element weighted by its inertial mass weight,
  normalised to sum 1 (domain.md §5, the sky share of a dish's elements).

Both take Sun..Pluto only (in that canonical order, whatever the chart order); an Ascendant is not a body
with a mass or a sectarian element and is left out (the live sky never has one).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from shared.alchemy.chart import ChartPoint
from shared.alchemy.constants import (
    ELEMENTS,
    INERTIAL_MASS_WEIGHT,
    MODALITIES,
    PLANETS,
    SECTARIAN_ELEMENTS,
    SIGN_ELEMENT,
    SIGN_MODALITY,
    canonical_body,
)

__all__ = [
    "ALCHEMIZE_ELEMENT_ORDER",
    "chart_signs",
    "dominant_element",
    "dominant_modality",
    "mass_weighted_sign_elements",
    "normalize",
    "sky_element_totals",
    "weighted_mean",
]

#: Tie-break order of ``alchemize``'s dominant element (the frontend's order there; domain.md §4).
ALCHEMIZE_ELEMENT_ORDER = ("Fire", "Water", "Air", "Earth")

_SIGN_SHARE = 0.6
_SECT_SHARE = 0.4


def _sign_of(value: ChartPoint | str) -> str:
    if isinstance(value, ChartPoint):
        return value.resolved_sign
    return value.strip().lower()


def chart_signs(chart: Mapping[str, ChartPoint | str]) -> dict[str, str]:
    """``{canonical body: sign}`` for every Sun..Pluto / Ascendant entry, in chart order."""
    out: dict[str, str] = {}
    for key, value in chart.items():
        body = canonical_body(key)
        if body is not None and value is not None:
            out[body] = _sign_of(value)
    return out


def sky_element_totals(chart: Mapping[str, ChartPoint | str], diurnal: bool) -> dict[str, float]:
    """Raw 0.6 sign / 0.4 sect element totals of Sun..Pluto (domain.md §4), keys in ELEMENTS order."""
    signs = chart_signs(chart)
    totals = dict.fromkeys(ELEMENTS, 0.0)
    sect_index = 0 if diurnal else 1
    for body in PLANETS:
        sign = signs.get(body)
        if sign is None:
            continue
        totals[SIGN_ELEMENT[sign]] += _SIGN_SHARE
        totals[SECTARIAN_ELEMENTS[body][sect_index]] += _SECT_SHARE
    return totals


def mass_weighted_sign_elements(chart: Mapping[str, ChartPoint | str]) -> dict[str, float]:
    """Sign elements of Sun..Pluto weighted by inertial mass weight, normalised to 1 (domain.md §5).

    An empty chart gives 0.25 each.
    """
    signs = chart_signs(chart)
    totals = dict.fromkeys(ELEMENTS, 0.0)
    count = 0.0
    for body in PLANETS:
        sign = signs.get(body)
        if sign is None:
            continue
        w = INERTIAL_MASS_WEIGHT[body]
        totals[SIGN_ELEMENT[sign]] += w
        count += w
    if count == 0:
        return dict.fromkeys(ELEMENTS, 0.25)
    return {el: totals[el] / count for el in ELEMENTS}


def _clean(value: float) -> float:
    return value if (value > 0 and math.isfinite(value)) else 0.0


def normalize(elements: Mapping[str, float]) -> dict[str, float]:
    """Scale to sum 1; negative, NaN and infinite values count as 0; all-zero → 0.25 each (domain-analysis
    §1.1). Missing keys count as 0. Keys in ELEMENTS order."""
    vals = [_clean(float(elements.get(el, 0.0))) for el in ELEMENTS]
    total = vals[0] + vals[1] + vals[2] + vals[3]
    if not total > 0 or not math.isfinite(total):
        return dict.fromkeys(ELEMENTS, 0.25)
    return {el: v / total for el, v in zip(ELEMENTS, vals, strict=True)}


def dominant_element(elements: Mapping[str, float], order: Sequence[str] = ELEMENTS) -> str:
    """The largest element; ties go to the first in ``order`` (alchemize passes Fire, Water, Air, Earth)."""
    best = order[0]
    best_value = elements.get(best, 0.0)
    for el in order[1:]:
        value = elements.get(el, 0.0)
        if value > best_value:
            best, best_value = el, value
    return best


def dominant_modality(chart: Mapping[str, ChartPoint | str]) -> str:
    """Most frequent modality among the chart's bodies (Ascendant included); ties Cardinal, Fixed, Mutable;
    an empty chart is "Cardinal" (the frontend's default)."""
    tally = dict.fromkeys(MODALITIES, 0)
    for sign in chart_signs(chart).values():
        tally[SIGN_MODALITY[sign]] += 1
    best = MODALITIES[0]
    for modality in MODALITIES[1:]:
        if tally[modality] > tally[best]:
            best = modality
    return best


def weighted_mean(
    profiles: Sequence[Mapping[str, float]], weights: Iterable[float] | None = None
) -> dict[str, float]:
    """Weighted mean of element profiles, normalised to sum 1 (``POST /calculate/elemental``, domain.md §5).

    ``weights`` default to equal; negative or non-finite weights count as 0, and if no weight is positive
    the plain mean is used. Each profile is normalised first; no profiles → 0.25 each.
    """
    if not profiles:
        return dict.fromkeys(ELEMENTS, 0.25)
    w = [1.0] * len(profiles) if weights is None else [_clean(float(x)) for x in weights]
    if len(w) != len(profiles):
        raise ValueError(f"{len(profiles)} profiles but {len(w)} weights")
    total_w = sum(w)
    if not total_w > 0:
        w = [1.0] * len(profiles)
        total_w = float(len(profiles))
    acc = dict.fromkeys(ELEMENTS, 0.0)
    for weight, profile in zip(w, profiles, strict=True):
        if weight == 0:
            continue
        p = normalize(profile)
        for el in ELEMENTS:
            acc[el] += weight * p[el]
    return normalize({el: acc[el] / total_w for el in ELEMENTS})
