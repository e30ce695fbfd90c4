"""The recipe recommendation score (design/domain.md §6; domain-analysis §6.2, the frontend's live recipe
match ``src/services/planetaryScoring.ts``) — pure functions and tables, no I/O.

    score = 0.4·sky + 0.3·elemental + 0.2·planetaryFavour + 0.1·methodAffinity          (each in [0, 1])

* **sky** — the condition now of the recipe's *ruling planet* (:func:`ruling_planet`):
  ``min(1, (0.4·dignity + 0.25·decan + 0.25·aspect + hourBonus + critical) × (0.5 + 0.5·M̂) × retro)``
  with the sign-level dignity scale (domicile 1.0, exaltation 0.9, detriment 0.3, fall 0.2, else 0.6), the
  Chaldean face (decan) ruler (1.0 the planet itself, 0.7 a friend, else 0.4), the planetary-hour ruler bonus
  (0.2 the planet, 0.1 a friend, else 0), +0.1 within 1° of 0°, 13° or 26° of its sign, M̂ its inertial mass
  weight, the retrograde factor of :data:`RETROGRADE_FACTOR`, and aspect = 0.5 (no natal chart is given).
* **elemental** — cosine of the dish's elements (recipe pipeline, domain.md §5) with the sky's sign elements
  weighted Sun/Moon 1.5, Mercury..Saturn 1, Uranus/Neptune/Pluto 0.5; or, when the caller gives desired or
  current elements, :func:`shared.alchemy.profile_compatibility` with them.
* **planetaryFavour** — mean dignity (same scale) now of the recipe's favourable classical planets; 0.5 when
  it lists none.
* **methodAffinity** — mean over the recipe's methods that have a planet (:data:`METHOD_PLANET`): 1.0 when
  the method's planet is the ruling planet, 0.7 a friend, 0.4 otherwise; 0.5 when no method has a planet.

No ±0.06 jitter (upstream added one by a hash of the id; domain.md §6 rules it out): ties are broken by id.
Deviations from the TypeScript, all deliberate and documented in docs/kitchen.md: detriment and fall are the
signs opposite *every* domicile / the exaltation (the TS table only knew the opposite of the first domicile);
the planetary-hour ruler is the real unequal hour at the observer (the TS used clock hours); the ruling planet
is the first favourable planet that is classical (the TS only looked at the first one); keyword rules match
whole words.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from shared.alchemy import CLASSICAL_PLANETS, ELEMENTS, SIGNS, inertial_mass_weight

__all__ = [
    "ASPECT_NEUTRAL",
    "CRITICAL_DEGREES",
    "ELEMENT_PLANET",
    "FRIENDSHIPS",
    "METHOD_PLANET",
    "RETROGRADE_FACTOR",
    "SKY_BODY_WEIGHT",
    "WEIGHTS",
    "PlanetSky",
    "RulingPlanet",
    "decan_score",
    "dignity_label",
    "friendly",
    "hour_bonus",
    "critical_bonus",
    "method_affinity",
    "method_keys",
    "planet_sky",
    "planetary_favour",
    "ruling_planet",
    "sign_dignity",
    "weighted_sky_elements",
]

#: Weights of the four components (domain.md §6).
WEIGHTS: Final = MappingProxyType(
    {"sky": 0.4, "elemental": 0.3, "planetaryFavour": 0.2, "methodAffinity": 0.1}
)

_DOMICILES: Final = MappingProxyType(
    {
        "Sun": ("leo",),
        "Moon": ("cancer",),
        "Mercury": ("gemini", "virgo"),
        "Venus": ("taurus", "libra"),
        "Mars": ("aries", "scorpio"),
        "Jupiter": ("sagittarius", "pisces"),
        "Saturn": ("capricorn", "aquarius"),
    }
)
_EXALTATION: Final = MappingProxyType(
    {
        "Sun": "aries",
        "Moon": "taurus",
        "Mercury": "virgo",
        "Venus": "pisces",
        "Mars": "capricorn",
        "Jupiter": "cancer",
        "Saturn": "libra",
    }
)


def _opposite(sign: str) -> str:
    return SIGNS[(SIGNS.index(sign) + 6) % 12]


#: planet → sign → (score, label) on the frontend's sign-level scale.
_DIGNITY: Final[dict[str, dict[str, tuple[float, str]]]] = {}
for _planet in CLASSICAL_PLANETS:
    _row: dict[str, tuple[float, str]] = {}
    for _sign in SIGNS:
        if _sign in _DOMICILES[_planet]:
            _row[_sign] = (1.0, "domicile")
        elif _sign == _EXALTATION[_planet]:
            _row[_sign] = (0.9, "exaltation")
        elif _sign in {_opposite(s) for s in _DOMICILES[_planet]}:
            _row[_sign] = (0.3, "detriment")
        elif _sign == _opposite(_EXALTATION[_planet]):
            _row[_sign] = (0.2, "fall")
        else:
            _row[_sign] = (0.6, "peregrine")
    _DIGNITY[_planet] = _row

#: Planetary friendships of the frontend's scoring (directional: ``b in FRIENDSHIPS[a]``).
FRIENDSHIPS: Final = MappingProxyType(
    {
        "Sun": frozenset({"Moon", "Mars", "Jupiter"}),
        "Moon": frozenset({"Sun", "Mercury", "Venus"}),
        "Mercury": frozenset({"Sun", "Venus"}),
        "Venus": frozenset({"Mercury", "Moon", "Saturn"}),
        "Mars": frozenset({"Sun", "Moon", "Jupiter"}),
        "Jupiter": frozenset({"Sun", "Moon", "Mars"}),
        "Saturn": frozenset({"Venus", "Mercury"}),
    }
)

#: Multiplier of the sky score when the ruling planet is retrograde.
RETROGRADE_FACTOR: Final = MappingProxyType(
    {
        "Sun": 1.0,
        "Moon": 1.0,
        "Mercury": 0.7,
        "Venus": 0.9,
        "Mars": 0.8,
        "Jupiter": 0.9,
        "Saturn": 1.1,
        "Uranus": 0.95,
        "Neptune": 0.95,
        "Pluto": 1.0,
    }
)

#: Cooking method → planet (keys: lowercase, no spaces, as the frontend matches them).
METHOD_PLANET: Final = MappingProxyType(
    {
        "grilling": "Mars",
        "searing": "Mars",
        "frying": "Mars",
        "broiling": "Mars",
        "roasting": "Sun",
        "caramelizing": "Sun",
        "baking": "Saturn",
        "braising": "Saturn",
        "smoking": "Saturn",
        "curing": "Saturn",
        "fermenting": "Saturn",
        "drying": "Saturn",
        "pickling": "Saturn",
        "boiling": "Moon",
        "simmering": "Moon",
        "poaching": "Moon",
        "steaming": "Moon",
        "blanching": "Moon",
        "sauteing": "Mercury",
        "stir-frying": "Mercury",
        "stirfrying": "Mercury",
        "raw": "Mercury",
        "chopping": "Mercury",
        "whisking": "Mercury",
        "confit": "Venus",
        "glazing": "Venus",
        "candying": "Venus",
        "whipping": "Venus",
        "sousvide": "Jupiter",
        "sous-vide": "Jupiter",
        "basting": "Jupiter",
    }
)

#: Dominant element → ruling planet (the last keyword-less fallback).
ELEMENT_PLANET: Final = MappingProxyType(
    {"Fire": "Mars", "Water": "Moon", "Earth": "Saturn", "Air": "Mercury"}
)

#: Body weights of the sky's elements for the elemental alignment (domain.md §6).
SKY_BODY_WEIGHT: Final = MappingProxyType(
    {
        "Sun": 1.5,
        "Moon": 1.5,
        "Mercury": 1.0,
        "Venus": 1.0,
        "Mars": 1.0,
        "Jupiter": 1.0,
        "Saturn": 1.0,
        "Uranus": 0.5,
        "Neptune": 0.5,
        "Pluto": 0.5,
    }
)

CRITICAL_DEGREES: Final = (0.0, 13.0, 26.0)
ASPECT_NEUTRAL: Final = 0.5  # no natal chart: the frontend's default aspect score
_SIGN_ELEMENT: Final = {
    s: e
    for e, signs in {
        "Fire": ("aries", "leo", "sagittarius"),
        "Earth": ("taurus", "virgo", "capricorn"),
        "Air": ("gemini", "libra", "aquarius"),
        "Water": ("cancer", "scorpio", "pisces"),
    }.items()
    for s in signs
}


def friendly(a: str, b: str) -> bool:
    """True when ``b`` is among ``a``'s friends (the frontend's directional table)."""
    friends = FRIENDSHIPS.get(a)
    return friends is not None and b in friends


def sign_dignity(planet: str, sign: str) -> float:
    """Sign-level dignity of a classical planet: domicile 1.0, exaltation 0.9, detriment 0.3, fall 0.2, else
    0.6 (0.6 for any other body)."""
    row = _DIGNITY.get(planet)
    return row[sign][0] if row is not None and sign in row else 0.6


def dignity_label(planet: str, sign: str) -> str:
    row = _DIGNITY.get(planet)
    return row[sign][1] if row is not None and sign in row else "peregrine"


def decan_score(decan_ruler: str, planet: str) -> float:
    if decan_ruler == planet:
        return 1.0
    return 0.7 if friendly(decan_ruler, planet) else 0.4


def hour_bonus(hour_planet: str, planet: str) -> float:
    if hour_planet == planet:
        return 0.2
    return 0.1 if friendly(hour_planet, planet) else 0.0


def critical_bonus(degree_in_sign: float) -> float:
    return 0.1 if any(abs(degree_in_sign - c) < 1.0 for c in CRITICAL_DEGREES) else 0.0


@dataclass(frozen=True, slots=True)
class PlanetSky:
    """The sky score of one classical planet now, with its components."""

    planet: str
    sign: str
    degree_in_sign: float
    longitude: float
    retrograde: bool
    dignity: float
    dignity_label: str
    decan_ruler: str
    decan: float
    hour_ruler: str
    hour_bonus: float
    critical: float
    aspect: float
    mass_scale: float
    retrograde_factor: float
    score: float

    def as_dict(self) -> dict[str, object]:
        return {
            "planet": self.planet,
            "sign": self.sign,
            "degreeInSign": round(self.degree_in_sign, 4),
            "retrograde": self.retrograde,
            "dignity": self.dignity,
            "dignityLabel": self.dignity_label,
            "decanRuler": self.decan_ruler,
            "decan": self.decan,
            "hourRuler": self.hour_ruler,
            "hourBonus": self.hour_bonus,
            "criticalDegree": self.critical,
            "aspect": self.aspect,
            "massScale": self.mass_scale,
            "retrogradeFactor": self.retrograde_factor,
            "score": self.score,
        }


def planet_sky(
    planet: str,
    sign: str,
    degree_in_sign: float,
    longitude: float,
    retrograde: bool,
    decan_ruler: str,
    hour_ruler: str,
) -> PlanetSky:
    """The sky component for a ruling planet (see the module docstring)."""
    dignity = sign_dignity(planet, sign)
    decan = decan_score(decan_ruler, planet)
    bonus = hour_bonus(hour_ruler, planet)
    critical = critical_bonus(degree_in_sign)
    mass_scale = 0.5 + 0.5 * inertial_mass_weight(planet)
    retro = RETROGRADE_FACTOR.get(planet, 1.0) if retrograde else 1.0
    base = dignity * 0.4 + decan * 0.25 + ASPECT_NEUTRAL * 0.25 + bonus + critical
    score = min(base * mass_scale * retro, 1.0)
    return PlanetSky(
        planet=planet,
        sign=sign,
        degree_in_sign=degree_in_sign,
        longitude=longitude,
        retrograde=retrograde,
        dignity=dignity,
        dignity_label=dignity_label(planet, sign),
        decan_ruler=decan_ruler,
        decan=decan,
        hour_ruler=hour_ruler,
        hour_bonus=bonus,
        critical=critical,
        aspect=ASPECT_NEUTRAL,
        mass_scale=mass_scale,
        retrograde_factor=retro,
        score=score,
    )


def weighted_sky_elements(signs: Mapping[str, str]) -> tuple[float, float, float, float]:
    """Sign elements of Sun..Pluto weighted by :data:`SKY_BODY_WEIGHT`, normalised (F, W, E, A)."""
    totals = dict.fromkeys(ELEMENTS, 0.0)
    for body, weight in SKY_BODY_WEIGHT.items():
        sign = signs.get(body)
        if sign is None:
            continue
        totals[_SIGN_ELEMENT[sign]] += weight
    total = totals["Fire"] + totals["Water"] + totals["Earth"] + totals["Air"]
    if total <= 0:
        return (0.25, 0.25, 0.25, 0.25)
    return (totals["Fire"] / total, totals["Water"] / total, totals["Earth"] / total, totals["Air"] / total)


def planetary_favour(favourable: Sequence[str], dignity_now: Mapping[str, float]) -> float:
    """Mean dignity now of the favourable classical planets; 0.5 when there are none."""
    values = [dignity_now[p] for p in favourable if p in dignity_now]
    if not values:
        return 0.5
    return sum(values) / len(values)


def method_keys(raw_methods: Iterable[str], canonical: Iterable[str]) -> tuple[str, ...]:
    """The method keys looked up in :data:`METHOD_PLANET`: canonical keys, then the raw strings lowercased
    without whitespace (the frontend's normalisation), deduplicated in order."""
    keys: list[str] = []
    for value in (*canonical, *raw_methods):
        key = "".join(str(value).lower().split())
        if key and key not in keys:
            keys.append(key)
    return tuple(keys)


def method_affinity(keys: Sequence[str], ruling: str) -> tuple[float, tuple[str, ...]]:
    """(affinity, the methods that carry a planet). 0.5 when none does."""
    total = 0.0
    used: list[str] = []
    for key in keys:
        planet = METHOD_PLANET.get(key)
        if planet is None:
            continue
        used.append(key)
        if planet == ruling:
            total += 1.0
        elif friendly(planet, ruling):
            total += 0.7
        else:
            total += 0.4
    if not used:
        return 0.5, ()
    return total / len(used), tuple(used)


@dataclass(frozen=True, slots=True)
class RulingPlanet:
    planet: str
    rule: str  # favourable | keyword | element | default
    why: str

    def as_dict(self) -> dict[str, str]:
        return {"planet": self.planet, "rule": self.rule, "why": self.why}


# (planet, test on (words of the name, tags, courses, meal types, methods, spice level)) — TS order.
_KEYWORD_RULES: Final[tuple[tuple[str, str, frozenset[str], frozenset[str]], ...]] = (
    # planet, label, name words, tag/course/meal/method/spice words
    (
        "Mars",
        "spicy, chili, curry or grilled",
        frozenset({"chili", "chilli", "curry"}),
        frozenset({"spicy", "hot", "very hot", "grilling"}),
    ),
    (
        "Venus",
        "a dessert, sweet, chocolate or cake",
        frozenset({"chocolate", "cake"}),
        frozenset({"dessert", "sweet"}),
    ),
    ("Mercury", "a salad, light or mixed", frozenset({"mixed"}), frozenset({"salad", "light"})),
    (
        "Moon",
        "comfort food, soup, pasta or cheese",
        frozenset({"soup", "pasta", "cheese"}),
        frozenset({"comfort", "comfort food"}),
    ),
    ("Jupiter", "a feast or a roast", frozenset({"roast"}), frozenset({"feast"})),
    ("Saturn", "traditional, rice or bread", frozenset({"rice", "bread"}), frozenset({"traditional"})),
    ("Sun", "breakfast, citrus or orange", frozenset({"citrus", "orange"}), frozenset({"breakfast"})),
)


def ruling_planet(
    favourable: Sequence[str],
    name_words: frozenset[str],
    labels: frozenset[str],
    elements: Mapping[str, float],
) -> RulingPlanet:
    """The recipe's ruling planet: its first favourable classical planet, else the keyword rules (whole words
    of the name; tags, courses, meal types, methods and spice level), else its dominant element's planet."""
    for planet in favourable:
        if planet in CLASSICAL_PLANETS:
            listed = ", ".join(favourable)
            return RulingPlanet(planet, "favourable", f"first favourable classical planet of ({listed})")
    for planet, label, words, tags in _KEYWORD_RULES:
        hit = sorted(name_words & words) or sorted(labels & tags)
        if hit:
            return RulingPlanet(planet, "keyword", f"{label} ({hit[0]})")
    if elements:
        best = ELEMENTS[0]
        for el in ELEMENTS[1:]:
            if elements.get(el, 0.0) > elements.get(best, 0.0):
                best = el
        return RulingPlanet(ELEMENT_PLANET[best], "element", f"dominant element {best}")
    return RulingPlanet("Moon", "default", "no planet, keyword or element")


def cosine4(a: Sequence[float], b: Sequence[float], b_norm: float) -> float:
    """Cosine of two 4-vectors, evaluated exactly as :func:`shared.alchemy.cosine` does (same operation
    order) with ``b``'s norm precomputed; 0.0 for a zero vector."""
    dot = 0 + a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3]
    na = math.sqrt(0 + a[0] * a[0] + a[1] * a[1] + a[2] * a[2] + a[3] * a[3])
    if na == 0 or b_norm == 0 or not math.isfinite(na * b_norm):
        return 0.0
    return max(-1.0, min(1.0, dot / (na * b_norm)))
