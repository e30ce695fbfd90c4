"""Layer 2 of the ESMS engine: the degree-level 5-fold dignity manifest (design/domain.md §3).

score = domicile +5, exaltation +4, triplicity +3, term +2, face +1, detriment −5, fall −4 (summed);
multiplier D = 1 + score/50. Traditional domiciles, classical exaltation signs, Dorothean triplicity (sect
ruler or participating ruler), Egyptian terms and Chaldean faces; the modern overlay (Uranus, Neptune,
Pluto: domicile/exaltation and their detriment/fall only) applies to the outer planets only. Triplicity,
term and face belong to the seven classical planets. The Ascendant and unknown bodies: score 0, D = 1.

Resolution (domain-analysis §3.4): at a longitude when one is known, else the *sign mean*
E[score | sign] = mean of the score over the integer degrees 0..29 of the sign (never a default of 0°).

Every dignity is a function of ⌊longitude⌋ (all boundaries are whole degrees), so the scores are tabulated
at import for each planet, sect and whole degree; lookups are O(1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from shared.alchemy.constants import (
    CHALDEAN_ORDER,
    CLASSICAL_PLANETS,
    PLANETS,
    SIGN_ELEMENT,
    SIGN_INDEX,
    SIGNS,
)

__all__ = [
    "DIGNITY_POINTS",
    "DIGNITY_SCORE_DIVISOR",
    "DignityBreakdown",
    "dignity_breakdown",
    "dignity_lookup",
    "dignity_multiplier",
    "dignity_score",
    "face_ruler",
    "score_at_longitude",
    "sign_mean_score",
]

FOLDS: Final = ("domicile", "exaltation", "triplicity", "term", "face", "detriment", "fall")
DIGNITY_POINTS: Final = {
    "domicile": 5,
    "exaltation": 4,
    "triplicity": 3,
    "term": 2,
    "face": 1,
    "detriment": -5,
    "fall": -4,
}
DIGNITY_SCORE_DIVISOR: Final = 50.0

_TRADITIONAL_RULER: Final = {
    "aries": "Mars",
    "taurus": "Venus",
    "gemini": "Mercury",
    "cancer": "Moon",
    "leo": "Sun",
    "virgo": "Mercury",
    "libra": "Venus",
    "scorpio": "Mars",
    "sagittarius": "Jupiter",
    "capricorn": "Saturn",
    "aquarius": "Saturn",
    "pisces": "Jupiter",
}
# Exaltation signs (the exact exaltation degree is not scored).
_EXALTATION: Final = {
    "Sun": "aries",
    "Moon": "taurus",
    "Mercury": "virgo",
    "Venus": "pisces",
    "Mars": "capricorn",
    "Jupiter": "cancer",
    "Saturn": "libra",
}
# Modern overlay: only for planets with no classical domicile.
_MODERN_OVERLAY: Final = {
    "Uranus": ("aquarius", "scorpio"),
    "Neptune": ("pisces", "leo"),
    "Pluto": ("scorpio", "sagittarius"),
}
# Dorothean triplicity rulers: element → (day, night, participating).
_TRIPLICITY: Final = {
    "Fire": ("Sun", "Jupiter", "Saturn"),
    "Earth": ("Venus", "Moon", "Mars"),
    "Air": ("Saturn", "Mercury", "Jupiter"),
    "Water": ("Venus", "Mars", "Moon"),
}
# Egyptian terms: (ruler, exclusive upper bound in degrees of the sign).
_TERMS: Final = {
    "aries": (("Jupiter", 6), ("Venus", 12), ("Mercury", 20), ("Mars", 25), ("Saturn", 30)),
    "taurus": (("Venus", 8), ("Mercury", 14), ("Jupiter", 22), ("Saturn", 27), ("Mars", 30)),
    "gemini": (("Mercury", 6), ("Jupiter", 12), ("Venus", 17), ("Mars", 24), ("Saturn", 30)),
    "cancer": (("Mars", 7), ("Venus", 13), ("Mercury", 19), ("Jupiter", 26), ("Saturn", 30)),
    "leo": (("Jupiter", 6), ("Venus", 11), ("Saturn", 18), ("Mercury", 24), ("Mars", 30)),
    "virgo": (("Mercury", 7), ("Venus", 17), ("Jupiter", 21), ("Mars", 28), ("Saturn", 30)),
    "libra": (("Saturn", 6), ("Mercury", 14), ("Jupiter", 21), ("Venus", 28), ("Mars", 30)),
    "scorpio": (("Mars", 7), ("Venus", 11), ("Mercury", 19), ("Jupiter", 24), ("Saturn", 30)),
    "sagittarius": (("Jupiter", 12), ("Venus", 17), ("Mercury", 21), ("Saturn", 26), ("Mars", 30)),
    "capricorn": (("Mercury", 7), ("Jupiter", 14), ("Venus", 22), ("Saturn", 26), ("Mars", 30)),
    "aquarius": (("Mercury", 7), ("Venus", 13), ("Jupiter", 20), ("Mars", 25), ("Saturn", 30)),
    "pisces": (("Venus", 12), ("Jupiter", 16), ("Mercury", 19), ("Mars", 28), ("Saturn", 30)),
}
# The 36 Chaldean faces: face i (longitude 10·i..10·i+10) is ruled by CHALDEAN[(i + 2) mod 7]; Aries I = Mars.
_FACES: Final = tuple(CHALDEAN_ORDER[(i + 2) % 7] for i in range(36))


def face_ruler(longitude: float) -> str:
    """Chaldean face (decan) ruler at an absolute longitude."""
    return _FACES[int((longitude % 360.0) // 10) % 36]


def _opposite(sign: str) -> str:
    return SIGNS[(SIGN_INDEX[sign] + 6) % 12]


def _domiciles(planet: str) -> tuple[str, ...]:
    classical = tuple(s for s in SIGNS if _TRADITIONAL_RULER[s] == planet)
    if classical:
        return classical
    if planet in _MODERN_OVERLAY:
        return (_MODERN_OVERLAY[planet][0],)
    return ()


def _exaltation(planet: str) -> str | None:
    if planet in _EXALTATION:
        return _EXALTATION[planet]
    if planet in _MODERN_OVERLAY:
        return _MODERN_OVERLAY[planet][1]
    return None


def _folds_at_degree(planet: str, whole_degree: int, diurnal: bool) -> dict[str, int]:
    """The seven signed fold points for ``planet`` at longitude ⌊λ⌋ = ``whole_degree`` (0..359)."""
    sign_index = whole_degree // 30
    sign = SIGNS[sign_index]
    deg_in_sign = whole_degree - sign_index * 30
    folds = dict.fromkeys(FOLDS, 0)
    domiciles = _domiciles(planet)
    if sign in domiciles:
        folds["domicile"] += DIGNITY_POINTS["domicile"]
    if any(_opposite(d) == sign for d in domiciles):
        folds["detriment"] += DIGNITY_POINTS["detriment"]
    exalt = _exaltation(planet)
    if exalt is not None:
        if exalt == sign:
            folds["exaltation"] += DIGNITY_POINTS["exaltation"]
        if _opposite(exalt) == sign:
            folds["fall"] += DIGNITY_POINTS["fall"]
    if planet in CLASSICAL_PLANETS:
        day, night, participating = _TRIPLICITY[SIGN_ELEMENT[sign]]
        if (day if diurnal else night) == planet or participating == planet:
            folds["triplicity"] += DIGNITY_POINTS["triplicity"]
        for ruler, upper in _TERMS[sign]:
            if deg_in_sign < upper:
                if ruler == planet:
                    folds["term"] += DIGNITY_POINTS["term"]
                break
        if _FACES[whole_degree // 10] == planet:
            folds["face"] += DIGNITY_POINTS["face"]
    return folds


# _DEGREE_SCORE[(planet, diurnal)][d] = integer score at ⌊λ⌋ = d; _SIGN_MEAN[(planet, diurnal)][sign index].
_DEGREE_SCORE: Final[dict[tuple[str, bool], tuple[int, ...]]] = {}
_SIGN_MEAN: Final[dict[tuple[str, bool], tuple[float, ...]]] = {}
_DEGREE_MULT: Final[dict[tuple[str, bool], tuple[float, ...]]] = {}
_SIGN_MEAN_MULT: Final[dict[tuple[str, bool], tuple[float, ...]]] = {}
for _planet in PLANETS:
    for _diurnal in (True, False):
        _scores = tuple(sum(_folds_at_degree(_planet, d, _diurnal).values()) for d in range(360))
        _means = []
        for _s in range(12):
            _acc = 0.0
            for _d in range(30):
                _acc += _scores[_s * 30 + _d]
            _means.append(_acc / 30.0)
        _DEGREE_SCORE[_planet, _diurnal] = _scores
        _SIGN_MEAN[_planet, _diurnal] = tuple(_means)
        _DEGREE_MULT[_planet, _diurnal] = tuple(1.0 + sc / DIGNITY_SCORE_DIVISOR for sc in _scores)
        _SIGN_MEAN_MULT[_planet, _diurnal] = tuple(1.0 + m / DIGNITY_SCORE_DIVISOR for m in _means)


def _whole_degree(longitude: float) -> int:
    return int(longitude % 360.0) % 360


def score_at_longitude(planet: str, longitude: float, diurnal: bool) -> int:
    """Integer dignity score of ``planet`` at an absolute longitude (wrapped into [0, 360)); 0 if no table."""
    table = _DEGREE_SCORE.get((planet, diurnal))
    return 0 if table is None else table[_whole_degree(longitude)]


def sign_mean_score(planet: str, sign: str, diurnal: bool) -> float:
    """E[score | sign]: the mean over the 30 whole degrees of ``sign``; 0.0 for a body with no dignity."""
    table = _SIGN_MEAN.get((planet, diurnal))
    return 0.0 if table is None else table[SIGN_INDEX[sign]]


def dignity_score(body: str, sign: str, longitude: float | None, diurnal: bool) -> float:
    """Dignity score at ``longitude`` when known, else the sign mean (domain.md §3)."""
    if longitude is None:
        return sign_mean_score(body, sign, diurnal)
    return float(score_at_longitude(body, longitude, diurnal))


def dignity_multiplier(body: str, sign: str, longitude: float | None, diurnal: bool) -> float:
    """D = 1 + score/50 (exactly 1.0 for the Ascendant and unknown bodies)."""
    key = (body, diurnal)
    if longitude is None:
        mean = _SIGN_MEAN_MULT.get(key)
        return 1.0 if mean is None else mean[SIGN_INDEX[sign]]
    table = _DEGREE_MULT.get(key)
    return 1.0 if table is None else table[_whole_degree(longitude)]


def dignity_lookup(body: str, sign: str, longitude: float | None, diurnal: bool) -> tuple[float, float]:
    """``(score, multiplier)`` in one lookup: at ``longitude`` when known, else the sign mean."""
    key = (body, diurnal)
    if longitude is None:
        means = _SIGN_MEAN.get(key)
        if means is None:
            return 0.0, 1.0
        i = SIGN_INDEX[sign]
        return means[i], _SIGN_MEAN_MULT[key][i]
    scores = _DEGREE_SCORE.get(key)
    if scores is None:
        return 0.0, 1.0
    d = _whole_degree(longitude)
    return float(scores[d]), _DEGREE_MULT[key][d]


@dataclass(frozen=True, slots=True)
class DignityBreakdown:
    """Which dignities applied, for display. Fold values are points (sign-mean: mean points)."""

    body: str
    sign: str
    resolution: Literal["degree", "sign-mean", "none"]
    domicile: float
    exaltation: float
    triplicity: float
    term: float
    face: float
    detriment: float
    fall: float
    score: float
    multiplier: float

    @property
    def applied(self) -> tuple[str, ...]:
        """Names of the folds that contributed (non-zero), in fold order."""
        return tuple(name for name in FOLDS if getattr(self, name) != 0)

    def as_dict(self) -> dict[str, object]:
        return {
            "body": self.body,
            "sign": self.sign,
            "resolution": self.resolution,
            **{name: getattr(self, name) for name in FOLDS},
            "score": self.score,
            "multiplier": self.multiplier,
            "applied": list(self.applied),
        }


def dignity_breakdown(body: str, sign: str, longitude: float | None, diurnal: bool) -> DignityBreakdown:
    """Full 5-fold breakdown for one body (UI use; the engine uses the tabulated score)."""
    if body not in PLANETS:
        return DignityBreakdown(body, sign, "none", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)
    if longitude is not None:
        whole = _whole_degree(longitude)
        folds = {k: float(v) for k, v in _folds_at_degree(body, whole, diurnal).items()}
        sign = SIGNS[whole // 30]
        resolution: Literal["degree", "sign-mean", "none"] = "degree"
    else:
        base = SIGN_INDEX[sign] * 30
        acc = dict.fromkeys(FOLDS, 0.0)
        for d in range(30):
            for k, v in _folds_at_degree(body, base + d, diurnal).items():
                acc[k] += v
        folds = {k: v / 30.0 for k, v in acc.items()}
        resolution = "sign-mean"
    score = dignity_score(body, sign, longitude, diurnal)
    return DignityBreakdown(
        body=body,
        sign=sign,
        resolution=resolution,
        score=score,
        multiplier=dignity_multiplier(body, sign, longitude, diurnal),
        **folds,
    )
