"""Layer 3 of the ESMS engine: aspects and their ESMS effects (design/domain.md §3; domain-analysis §3.5).

For every unordered pair of participating bodies (in chart order), the angular separation is folded to
[0, 180] and tested against 12 candidate aspects in definition order. The orb allowance is
``adj = max_orb × mult`` (a float product; mult = 1.2 when the Sun or the Moon takes part, else 1.0);
a candidate is in orb when ``|diff − angle| ≤ adj`` and its strength is ``(1 + cos(π·(orb/adj)))/2``.
The strongest candidate wins, the first in definition order on a tie. A septile winner means *no* aspect
(septile stays a candidate but has no effect table). The result is sorted by strength, descending, stably.

Effects: ``table[pair][type] × strength`` per axis [Spirit, Essence, Matter, Substance]; the pair key is
the two names sorted and joined by "-"; pairs without a table (including any pair with the Ascendant)
use ``__DEFAULT__``. The tables equal ``shared/data/golden/aspect_effects_golden.json`` exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from types import MappingProxyType
from typing import Final, NamedTuple

from shared.alchemy.constants import BODIES

__all__ = [
    "ASPECT_DEFINITIONS",
    "ASPECT_EFFECT_TABLES",
    "ASPECT_TYPES",
    "DEFAULT_TABLE_KEY",
    "Aspect",
    "aspect_effect",
    "aspect_modifications",
    "detect_aspect",
    "find_aspects",
    "pair_key",
]

Effect = tuple[float, float, float, float]

#: (type, exact angle, max orb) in definition order — the order decides strength ties.
ASPECT_DEFINITIONS: Final = (
    ("conjunction", 0.0, 8.0),
    ("opposition", 180.0, 8.0),
    ("trine", 120.0, 8.0),
    ("square", 90.0, 7.0),
    ("sextile", 60.0, 6.0),
    ("quincunx", 150.0, 5.0),
    ("semi-sextile", 30.0, 4.0),
    ("sesquisquare", 135.0, 3.0),
    ("semisquare", 45.0, 3.0),
    ("quintile", 72.0, 2.0),
    ("biquintile", 144.0, 2.0),
    ("septile", 51.428, 2.0),
)
#: The aspect types that have effects ("inconjunct" is the quincunx row under its other name).
ASPECT_TYPES: Final = (
    "conjunction",
    "opposition",
    "trine",
    "square",
    "sextile",
    "quincunx",
    "inconjunct",
    "semi-sextile",
    "sesquisquare",
    "semisquare",
    "quintile",
    "biquintile",
)
DEFAULT_TABLE_KEY: Final = "__DEFAULT__"
_LUMINARIES: Final = frozenset({"Sun", "Moon"})


def _table(rows: dict[str, Effect]) -> MappingProxyType[str, Effect]:
    full = dict(rows)
    full["inconjunct"] = rows["quincunx"]
    return MappingProxyType({t: full[t] for t in ASPECT_TYPES})


#: Effect tables per pair key, [Spirit, Essence, Matter, Substance] (golden: aspect_effects_golden.json).
ASPECT_EFFECT_TABLES: Final = MappingProxyType(
    {
        "Moon-Sun": _table(
            {
                "conjunction": (-0.5, -0.5, 0.0, 0.0),
                "opposition": (0.3, 0.3, 0.0, 0.0),
                "trine": (0.2, 0.2, 0.0, 0.0),
                "square": (-0.1, -0.1, 0.2, 0.0),
                "sextile": (0.1, 0.1, 0.0, 0.0),
                "quincunx": (0.0, 0.0, 0.0, 0.1),
                "semi-sextile": (0.0, 0.05, 0.0, 0.0),
                "sesquisquare": (0.0, 0.0, 0.1, 0.0),
                "semisquare": (0.0, 0.0, 0.1, 0.0),
                "quintile": (0.1, 0.05, 0.0, 0.0),
                "biquintile": (0.1, 0.05, 0.0, 0.0),
            }
        ),
        "Mars-Venus": _table(
            {
                "conjunction": (0.0, 0.4, 0.2, 0.0),
                "opposition": (0.0, -0.2, 0.0, 0.2),
                "trine": (0.0, 0.3, 0.1, 0.0),
                "square": (0.0, -0.1, 0.3, 0.0),
                "sextile": (0.0, 0.2, 0.1, 0.0),
                "quincunx": (0.0, 0.0, 0.0, 0.1),
                "semi-sextile": (0.0, 0.1, 0.0, 0.0),
                "sesquisquare": (0.0, 0.0, 0.1, 0.0),
                "semisquare": (0.0, 0.0, 0.1, 0.0),
                "quintile": (0.0, 0.2, 0.1, 0.0),
                "biquintile": (0.0, 0.2, 0.1, 0.0),
            }
        ),
        "Jupiter-Mercury": _table(
            {
                "conjunction": (0.4, 0.0, 0.0, 0.2),
                "opposition": (0.1, 0.0, 0.0, 0.2),
                "trine": (0.3, 0.0, 0.0, 0.1),
                "square": (-0.1, 0.0, 0.0, -0.1),
                "sextile": (0.2, 0.0, 0.0, 0.1),
                "quincunx": (0.0, 0.0, 0.0, 0.0),
                "semi-sextile": (0.1, 0.0, 0.0, 0.0),
                "sesquisquare": (0.0, 0.0, 0.0, -0.05),
                "semisquare": (0.0, 0.0, 0.0, -0.05),
                "quintile": (0.2, 0.0, 0.0, 0.1),
                "biquintile": (0.2, 0.0, 0.0, 0.1),
            }
        ),
        "Saturn-Sun": _table(
            {
                "conjunction": (-0.3, 0.0, 0.4, 0.2),
                "opposition": (0.0, 0.0, 0.2, 0.3),
                "trine": (0.1, 0.0, 0.3, 0.2),
                "square": (-0.2, 0.0, 0.3, 0.0),
                "sextile": (0.1, 0.0, 0.2, 0.1),
                "quincunx": (0.0, 0.0, 0.1, 0.1),
                "semi-sextile": (0.0, 0.0, 0.1, 0.0),
                "sesquisquare": (-0.1, 0.0, 0.1, 0.0),
                "semisquare": (-0.1, 0.0, 0.1, 0.0),
                "quintile": (0.1, 0.0, 0.2, 0.0),
                "biquintile": (0.1, 0.0, 0.2, 0.0),
            }
        ),
        DEFAULT_TABLE_KEY: _table(
            {
                "conjunction": (0.1, 0.1, 0.0, 0.0),
                "opposition": (0.0, 0.0, 0.1, 0.0),
                "trine": (0.05, 0.05, 0.0, 0.0),
                "square": (0.0, 0.0, 0.1, 0.0),
                "sextile": (0.05, 0.0, 0.0, 0.0),
                "quincunx": (0.0, 0.0, 0.0, 0.05),
                "semi-sextile": (0.0, 0.0, 0.0, 0.0),
                "sesquisquare": (0.0, 0.0, 0.05, 0.0),
                "semisquare": (0.0, 0.0, 0.05, 0.0),
                "quintile": (0.05, 0.0, 0.0, 0.0),
                "biquintile": (0.05, 0.0, 0.0, 0.0),
            }
        ),
    }
)


def _title(name: str) -> str:
    return name[:1].upper() + name[1:].lower()


def pair_key(body1: str, body2: str) -> str:
    """Effect-table key of a pair: both names title-cased, sorted, joined by "-" (e.g. "Moon-Sun")."""
    return "-".join(sorted((_title(body1), _title(body2))))


# (body1, body2) → effect table, for every ordered pair of known bodies; computed once.
_PAIR_TABLE: Final = {
    (a, b): ASPECT_EFFECT_TABLES.get(pair_key(a, b), ASPECT_EFFECT_TABLES[DEFAULT_TABLE_KEY])
    for a in BODIES
    for b in BODIES
}

# Candidate rows (type, angle, adj) for mult 1.0 and 1.2; adj = max_orb * mult computed as at runtime.
_CANDIDATES: Final = {
    mult: tuple((name, angle, max_orb * mult) for name, angle, max_orb in ASPECT_DEFINITIONS)
    for mult in (1.0, 1.2)
}
# Speed-up only: for a folded separation d in [0, 180], _BUCKETS[mult][int(d)] lists (in definition order)
# the candidates whose orb window [angle − adj, angle + adj] can contain d (with a generous margin). The
# exact in-orb test is still evaluated on each of them, so results are identical to a full scan.
_MARGIN: Final = 0.01
_BUCKETS: Final = {
    mult: tuple(
        tuple(c for c in rows if c[1] - c[2] - _MARGIN <= b + 1 and c[1] + c[2] + _MARGIN >= b)
        for b in range(181)
    )
    for mult, rows in _CANDIDATES.items()
}
_PI: Final = math.pi
_new_tuple: Final = tuple.__new__
_cos: Final = math.cos


class Aspect(NamedTuple):
    """The winning aspect of one pair: ``orb`` = |separation − exact angle| (degrees), strength in [0, 1]."""

    body1: str
    body2: str
    type: str
    orb: float
    strength: float

    def as_dict(self) -> dict[str, object]:
        return {
            "planet1": self.body1,
            "planet2": self.body2,
            "type": self.type,
            "orb": self.orb,
            "strength": self.strength,
        }


def detect_aspect(lon1: float, lon2: float, luminary: bool) -> tuple[str, float, float] | None:
    """Strongest in-orb candidate ``(type, orb, strength)`` between two longitudes, or ``None``.

    ``luminary`` widens the orbs ×1.2 (Sun or Moon takes part). A septile winner returns ``None``.
    """
    diff = abs(lon1 - lon2)
    if diff > 180.0:
        diff = 360.0 - diff
    mult = 1.2 if luminary else 1.0
    rows = _BUCKETS[mult][int(diff)] if 0.0 <= diff <= 180.0 else _CANDIDATES[mult]
    best: tuple[str, float, float] | None = None
    best_strength = -1.0
    for name, angle, adj in rows:
        orb = abs(diff - angle)
        if orb <= adj:
            strength = (1.0 + _cos(_PI * (orb / adj))) / 2.0
            if best is None or strength > best_strength:
                best = (name, orb, strength)
                best_strength = strength
    if best is None or best[0] == "septile":
        return None
    return best


def find_aspects(points: Sequence[tuple[str, float]]) -> list[Aspect]:
    """Aspects between ``(body, longitude)`` points, one per pair at most, strongest first (stable sort).

    Pairs are visited in input order (i < j); equal strengths keep that order.
    """
    aspects: list[Aspect] = []
    n = len(points)
    buckets_lum = _BUCKETS[1.2]
    buckets = _BUCKETS[1.0]
    for i in range(n):
        body1, lon1 = points[i]
        lum1 = body1 in _LUMINARIES
        for j in range(i + 1, n):
            body2, lon2 = points[j]
            # Inlined detect_aspect (same arithmetic, same order) — this loop is the engine's hot path.
            luminary = lum1 or body2 in _LUMINARIES
            diff = abs(lon1 - lon2)
            if diff > 180.0:
                diff = 360.0 - diff
            if 0.0 <= diff <= 180.0:
                rows = (buckets_lum if luminary else buckets)[int(diff)]
            else:
                rows = _CANDIDATES[1.2 if luminary else 1.0]
            best_name = ""
            best_orb = 0.0
            best_strength = -1.0
            for name, angle, adj in rows:
                orb = abs(diff - angle)
                if orb <= adj:
                    strength = (1.0 + _cos(_PI * (orb / adj))) / 2.0
                    if strength > best_strength:
                        best_name, best_orb, best_strength = name, orb, strength
            if best_name and best_name != "septile":
                aspects.append(_new_tuple(Aspect, (body1, body2, best_name, best_orb, best_strength)))
    aspects.sort(key=_strength, reverse=True)
    return aspects


def _strength(aspect: Aspect) -> float:
    return aspect.strength


def aspect_effect(body1: str, body2: str, aspect_type: str) -> Effect:
    """Unscaled [S, E, M, Su] effect of an aspect type between two bodies (pair table or default)."""
    table = _PAIR_TABLE.get((body1, body2))
    if table is None:
        table = ASPECT_EFFECT_TABLES.get(pair_key(body1, body2), ASPECT_EFFECT_TABLES[DEFAULT_TABLE_KEY])
    return table[aspect_type]


def aspect_modifications(aspects: Iterable[Aspect]) -> dict[str, float]:
    """Σ effect × strength per axis, accumulated in the given order (pass the strength-sorted list)."""
    s = e = m = su = 0.0
    pair_table = _PAIR_TABLE
    for body1, body2, aspect_type, _orb, k in aspects:
        table = pair_table.get((body1, body2))
        effect = table[aspect_type] if table is not None else aspect_effect(body1, body2, aspect_type)
        s += effect[0] * k
        e += effect[1] * k
        m += effect[2] * k
        su += effect[3] * k
    return {"Spirit": s, "Essence": e, "Matter": m, "Substance": su}
