"""Compatibility of elements, profiles and ingredients (design/domain.md §6).

Principle: like reinforces like and no element opposes another — same element 0.9, different 0.7.

* :func:`profile_compatibility` — normalise both profiles, then 0.7 + 0.2·(1 − ½·Σ_e|â_e − b̂_e|): 0.9 for
  identical profiles, 0.7 for disjoint ones, always within [0.7, 0.9].
* :func:`ingredient_pair_score` — 0.4 elemental + 0.3 flavour + 0.2 season + 0.1 energy, each in [0, 1].
* :func:`set_compatibility` — the mean over every pair, every pair's score and the weakest pair.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Final

from shared.alchemy.constants import ELEMENTS
from shared.alchemy.elements import normalize

__all__ = [
    "IngredientProfile",
    "PairScore",
    "SetCompatibility",
    "cosine",
    "element_pair",
    "ingredient_pair_score",
    "profile_compatibility",
    "set_compatibility",
]

SAME_ELEMENT: Final = 0.9
DIFFERENT_ELEMENT: Final = 0.7
WEIGHTS: Final = {"elemental": 0.4, "flavor": 0.3, "seasonal": 0.2, "energy": 0.1}
NEUTRAL: Final = 0.5
_ALL_SEASONS: Final = frozenset({"all", "year-round", "year round", "yearround", "all-year", "any"})
_SEASON_ALIASES: Final = {"autumn": "fall"}


def element_pair(e1: str, e2: str) -> float:
    """0.9 for the same element, 0.7 for any two different ones (case-insensitive names)."""
    return SAME_ELEMENT if e1.strip().lower() == e2.strip().lower() else DIFFERENT_ELEMENT


def profile_compatibility(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """0.7 + 0.2·(1 − ½·Σ|â − b̂|) over normalised profiles (domain.md §6), clamped to [0.7, 0.9]."""
    na = normalize(a)
    nb = normalize(b)
    l1 = 0.0
    for el in ELEMENTS:
        l1 += abs(na[el] - nb[el])
    # 0.7 + 0.2·(1 − ½·L1) written as 0.9 − 0.1·L1 so the end points come out as exactly 0.9 and 0.7.
    value = SAME_ELEMENT - 0.1 * l1
    return min(SAME_ELEMENT, max(DIFFERENT_ELEMENT, value))


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine similarity over the four elements (missing/non-finite = 0); 0.0 if either vector is zero."""
    va = [_finite(a.get(el, 0.0)) for el in ELEMENTS]
    vb = [_finite(b.get(el, 0.0)) for el in ELEMENTS]
    dot = sum(x * y for x, y in zip(va, vb, strict=True))
    na = math.sqrt(sum(x * x for x in va))
    nb = math.sqrt(sum(y * y for y in vb))
    if na == 0 or nb == 0 or not math.isfinite(na * nb):
        return 0.0
    return max(-1.0, min(1.0, dot / (na * nb)))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _finite(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value) if math.isfinite(value) else 0.0


@dataclass(frozen=True, slots=True)
class IngredientProfile:
    """What the pair score needs to know about an ingredient. ``None`` means "unknown" (neutral 0.5)."""

    elements: Mapping[str, float]
    flavor: Mapping[str, Any] | None = None
    seasons: Sequence[str] | None = None
    heat: float | None = None
    entropy: float | None = None
    reactivity: float | None = None
    name: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> IngredientProfile:
        """Build from a dict with keys elements/elementalProperties, flavor/flavorProfile, seasons/season,
        heat, entropy, reactivity, name (missing keys → unknown)."""
        elements = data.get("elements", data.get("elementalProperties")) or {}
        flavor = data.get("flavor", data.get("flavorProfile"))
        seasons = data.get("seasons", data.get("season"))
        if isinstance(seasons, str):
            seasons = [seasons]
        return cls(
            elements=elements,
            flavor=flavor,
            seasons=seasons,
            heat=data.get("heat"),
            entropy=data.get("entropy"),
            reactivity=data.get("reactivity"),
            name=data.get("name"),
        )


@dataclass(frozen=True, slots=True)
class PairScore:
    """Total in [0, 1] and its four components (each in [0, 1])."""

    total: float
    elemental: float
    flavor: float
    seasonal: float
    energy: float

    def breakdown(self) -> dict[str, float]:
        return {
            "elemental": self.elemental,
            "flavor": self.flavor,
            "seasonal": self.seasonal,
            "energy": self.energy,
        }

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "breakdown": self.breakdown()}


def _profile(item: IngredientProfile | Mapping[str, Any]) -> IngredientProfile:
    return item if isinstance(item, IngredientProfile) else IngredientProfile.from_mapping(item)


def _numeric_flavor(flavor: Mapping[str, Any] | None) -> dict[str, float] | None:
    if not flavor:
        return None
    out = {
        str(k): float(v)
        for k, v in flavor.items()
        if not isinstance(v, bool) and isinstance(v, int | float) and math.isfinite(v)
    }
    return out or None


def _flavor_score(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> float:
    fa = _numeric_flavor(a)
    fb = _numeric_flavor(b)
    if fa is None or fb is None:
        return NEUTRAL
    keys = list(dict.fromkeys([*fa, *fb]))
    total = 0.0
    for key in keys:
        total += 1.0 - min(abs(fa.get(key, 0.0) - fb.get(key, 0.0)), 1.0)
    return total / len(keys)


def _season_set(seasons: Iterable[str] | None) -> set[str] | None:
    if not seasons:
        return None
    out = set()
    for s in seasons:
        if isinstance(s, str) and s.strip():
            key = s.strip().lower()
            out.add(_SEASON_ALIASES.get(key, key))
    return out or None


def _season_score(a: Iterable[str] | None, b: Iterable[str] | None) -> float:
    sa = _season_set(a)
    sb = _season_set(b)
    if sa is None or sb is None:
        return NEUTRAL
    if sa & _ALL_SEASONS or sb & _ALL_SEASONS:
        return 1.0
    return len(sa & sb) / min(len(sa), len(sb))


def _energy_score(a: IngredientProfile, b: IngredientProfile) -> float:
    pairs = ((a.heat, b.heat), (a.entropy, b.entropy), (a.reactivity, b.reactivity))
    diffs = []
    for x, y in pairs:
        if not (_is_number(x) and _is_number(y)):
            return NEUTRAL
        fx, fy = float(x), float(y)  # type: ignore[arg-type]
        if not (math.isfinite(fx) and math.isfinite(fy)):
            return NEUTRAL
        diffs.append(abs(fx - fy))
    value = 1.0 - (diffs[0] + diffs[1] + diffs[2]) / 3.0
    return min(1.0, max(0.0, value)) if math.isfinite(value) else 0.0


def ingredient_pair_score(
    a: IngredientProfile | Mapping[str, Any], b: IngredientProfile | Mapping[str, Any]
) -> PairScore:
    """0.4·elemental + 0.3·flavour + 0.2·season + 0.1·energy (domain.md §6).

    * elemental: :func:`profile_compatibility` (in [0.7, 0.9]);
    * flavour: mean of 1 − min(|Δ|, 1) over the union of numeric flavour keys (a key one side lacks counts
      as 0 there); 0.5 when either profile is missing or has no numeric key;
    * season: 1 if either side is "all"/"year-round", else |overlap| / min(sizes) ("autumn" = "fall");
      0.5 when either side is unknown;
    * energy: 1 − mean(|Δheat|, |Δentropy|, |Δreactivity|), clamped to [0, 1]; 0.5 when any is unknown.
    """
    pa, pb = _profile(a), _profile(b)
    elemental = profile_compatibility(pa.elements, pb.elements)
    flavor = _flavor_score(pa.flavor, pb.flavor)
    seasonal = _season_score(pa.seasons, pb.seasons)
    energy = _energy_score(pa, pb)
    total = (
        WEIGHTS["elemental"] * elemental
        + WEIGHTS["flavor"] * flavor
        + WEIGHTS["seasonal"] * seasonal
        + WEIGHTS["energy"] * energy
    )
    return PairScore(min(1.0, max(0.0, total)), elemental, flavor, seasonal, energy)


@dataclass(frozen=True, slots=True)
class SetCompatibility:
    """Mean pair score of a set, with every pair ``(i, j, score)`` (indices into the input) and the weakest.

    Fewer than two items: score 1.0 (nothing clashes), no pairs, no weakest pair.
    """

    score: float
    pairs: tuple[tuple[int, int, PairScore], ...] = field(default_factory=tuple)
    weakest: tuple[int, int, PairScore] | None = None


def set_compatibility(items: Sequence[IngredientProfile | Mapping[str, Any]]) -> SetCompatibility:
    """Mean over all pairs (domain.md §6); the weakest pair is the first with the lowest total."""
    profiles = [_profile(item) for item in items]
    pairs = tuple(
        (i, j, ingredient_pair_score(profiles[i], profiles[j]))
        for i, j in combinations(range(len(profiles)), 2)
    )
    if not pairs:
        return SetCompatibility(1.0)
    weakest = min(pairs, key=lambda p: p[2].total)
    mean = sum(p[2].total for p in pairs) / len(pairs)
    return SetCompatibility(min(1.0, max(0.0, mean)), pairs, weakest)
