"""``POST /compatibility/check``: how well 2..20 ingredients go together (domain.md §6).

Each pair is scored by :func:`shared.alchemy.ingredient_pair_score` — 0.4 elements (profile compatibility)
+ 0.3 flavour (the catalog's numeric tastes) + 0.2 season overlap + 0.1 energy — and the set by
:func:`shared.alchemy.set_compatibility`'s rule (mean over pairs, weakest pair). The energy term would
compare the ingredients' heat, entropy and reactivity, but the catalog carries no per-ingredient
thermodynamics (ingredients have elements, not quantities: domain-analysis §0), so it is *unknown* and takes
the formula's neutral 0.5 — which also makes the answer independent of the time of the request.

Suggestions: catalog ingredients (not in the set) that bridge the weakest pair — ranked first by the mean of
their scores with the two weakest-pair members, then kept only if adding them raises the set's mean; sorted by
the new mean (then slug).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Final

from shared.alchemy import IngredientProfile, PairScore, ingredient_pair_score
from shared.catalog.models import Ingredient
from shared.errors import InvalidInput

from .index import KitchenIndex

__all__ = ["check_compatibility", "profile_of"]

_BRIDGE_CANDIDATES: Final = 25
_ROUND = 4


def _rating(score: float) -> str:
    if score >= 0.7:
        return "strong"
    if score >= 0.55:
        return "good"
    if score >= 0.4:
        return "fair"
    return "weak"


def profile_of(ing: Ingredient) -> IngredientProfile:
    """The pair-score profile of a catalog ingredient: elements, numeric tastes, seasons; no energy
    (heat/entropy/reactivity unknown → the neutral 0.5 of the energy term)."""
    return IngredientProfile(
        elements=ing.elements.as_dict(),
        flavor=dict(ing.flavor) or None,
        seasons=list(ing.seasons) or None,
        name=ing.name,
    )


@dataclass(frozen=True, slots=True)
class _Resolved:
    index: int
    input: str
    ingredient: Ingredient
    matched_by: str | None


def _resolve(index: KitchenIndex, names: Sequence[str]) -> tuple[list[_Resolved], list[dict[str, Any]]]:
    found: list[_Resolved] = []
    duplicates: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        res = index.resolver.resolve(name)
        if res.ingredient is None or res.non_food:
            raise InvalidInput(f"ingredients.{i}", f"{name!r} is not an ingredient in the catalog")
        slug = res.ingredient.slug
        if slug in seen:
            duplicates.append({"input": name, "sameAs": names[seen[slug]], "slug": slug})
            continue
        seen[slug] = i
        found.append(_Resolved(i, name, res.ingredient, res.matched_by))
    if len(found) < 2:
        raise InvalidInput("ingredients", "needs at least two different catalog ingredients")
    return found, duplicates


def _pair_dict(a: _Resolved, b: _Resolved, total: float, breakdown: dict[str, float]) -> dict[str, Any]:
    return {
        "a": a.ingredient.slug,
        "b": b.ingredient.slug,
        "names": [a.ingredient.name, b.ingredient.name],
        "score": round(total, _ROUND),
        "rating": _rating(total),
        "breakdown": {k: round(v, _ROUND) for k, v in breakdown.items()},
    }


class PairMemo:
    """Pair scores of catalog ingredients, memoised by the ordered slug pair (the inputs are static: no sky,
    no time), and the bridge ranking of each weakest pair. Bounded: cleared when full."""

    def __init__(self, max_pairs: int = 200_000, max_bridges: int = 4096) -> None:
        self.max_pairs = max_pairs
        self.max_bridges = max_bridges
        self.pairs: dict[tuple[str, str], PairScore] = {}
        self.bridges: dict[tuple[str, str], list[tuple[float, str]]] = {}
        self.profiles: dict[str, IngredientProfile] = {}

    def profile(self, ing: Ingredient) -> IngredientProfile:
        found = self.profiles.get(ing.slug)
        if found is None:
            found = self.profiles[ing.slug] = profile_of(ing)
        return found

    def pair(self, a: Ingredient, b: Ingredient) -> PairScore:
        key = (a.slug, b.slug)
        found = self.pairs.get(key)
        if found is None:
            if len(self.pairs) >= self.max_pairs:
                self.pairs.clear()
            found = self.pairs[key] = ingredient_pair_score(self.profile(a), self.profile(b))
        return found

    def bridge_ranking(self, index: KitchenIndex, a: Ingredient, b: Ingredient) -> list[tuple[float, str]]:
        """Every catalog ingredient but a and b by its mean pair score with them, best first, then slug."""
        key = (a.slug, b.slug)
        found = self.bridges.get(key)
        if found is None:
            ranked = []
            for entry in index.ingredients:
                if entry.slug in key:
                    continue
                c = entry.ingredient
                ranked.append(((self.pair(a, c).total + self.pair(b, c).total) / 2.0, entry.slug))
            ranked.sort(key=lambda r: (-r[0], r[1]))
            if len(self.bridges) >= self.max_bridges:
                self.bridges.clear()
            found = self.bridges[key] = ranked
        return found


_MEMO = PairMemo()


def check_compatibility(
    index: KitchenIndex, names: Sequence[str], suggestions: int = 5, memo: PairMemo | None = None
) -> dict[str, Any]:
    """The set's score (mean over pairs, as :func:`shared.alchemy.set_compatibility`), every pair, the weakest
    and strongest pair, and suggestions."""
    memo = memo or _MEMO
    resolved, duplicates = _resolve(index, names)
    scored = [
        (i, j, memo.pair(resolved[i].ingredient, resolved[j].ingredient))
        for i, j in combinations(range(len(resolved)), 2)
    ]
    pair_sum = sum(p.total for _, _, p in scored)
    overall = min(1.0, max(0.0, pair_sum / len(scored)))
    wi, wj, weak = min(scored, key=lambda p: p[2].total)
    si, sj, strong = max(scored, key=lambda p: p[2].total)
    pairs = [_pair_dict(resolved[i], resolved[j], p.total, p.breakdown()) for i, j, p in scored]
    out: dict[str, Any] = {
        "overall": round(overall, _ROUND),
        "score": round(overall, _ROUND),
        "rating": _rating(overall),
        "ingredients": [
            {
                "input": r.input,
                "slug": r.ingredient.slug,
                "name": r.ingredient.name,
                "matchedBy": r.matched_by,
            }
            for r in resolved
        ],
        "pairs": pairs,
        "weakest": _pair_dict(resolved[wi], resolved[wj], weak.total, weak.breakdown()),
        "strongest": _pair_dict(resolved[si], resolved[sj], strong.total, strong.breakdown()),
        "suggestions": _suggest(index, memo, resolved, pair_sum, len(scored), (wi, wj), suggestions)
        if suggestions
        else [],
        "weights": {"elemental": 0.4, "flavor": 0.3, "seasonal": 0.2, "energy": 0.1},
        "notes": [
            "energy is unknown (0.5) for every pair: "
            "the catalog has no per-ingredient heat/entropy/reactivity"
        ],
    }
    if duplicates:
        out["duplicates"] = duplicates
    return out


def _suggest(
    index: KitchenIndex,
    memo: PairMemo,
    resolved: list[_Resolved],
    pair_sum: float,
    n_pairs: int,
    weakest: tuple[int, int],
    k: int,
) -> list[dict[str, Any]]:
    in_set = {r.ingredient.slug for r in resolved}
    a, b = resolved[weakest[0]].ingredient, resolved[weakest[1]].ingredient
    overall = pair_sum / n_pairs
    n = len(resolved)
    out: list[tuple[float, str, dict[str, Any]]] = []
    candidates: list[tuple[float, str]] = []
    for bridge, slug in memo.bridge_ranking(index, a, b):
        if slug not in in_set:
            candidates.append((bridge, slug))
            if len(candidates) == _BRIDGE_CANDIDATES:
                break
    for bridge, slug in candidates:
        ing = index.ingredient_by_slug[slug].ingredient
        added = sum(memo.pair(r.ingredient, ing).total for r in resolved)
        new = (pair_sum + added) / (n_pairs + n)
        if new <= overall:
            continue
        out.append(
            (
                new,
                slug,
                {
                    "slug": slug,
                    "name": ing.name,
                    "category": ing.category,
                    "bridgeScore": round(bridge, _ROUND),
                    "newOverall": round(new, _ROUND),
                    "gain": round(new - overall, _ROUND),
                    "reason": f"Bridges {a.name} and {b.name} ({bridge:.2f}) and lifts the set to {new:.2f}",
                },
            )
        )
    out.sort(key=lambda r: (-r[0], r[1]))
    return [row for _, _, row in out[:k]]
