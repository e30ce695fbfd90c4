"""The canonical three-layer ESMS engine (design/domain.md §3).

For each body b of the chart (Sun..Pluto, and the Ascendant when the chart carries one), in chart order:

    contrib_b = base_b(sect) × Λ_b × D_b          (per axis, evaluated left to right)

* base: the sectarian table (one unit to one quantity per planet and sect); the Ascendant uses the
  positional *vessel* instead (0.5 on every axis, +0.5/+0.25 by its sign's element, +0.1 by decan), with
  Λ = D = 1.
* Λ_b = M̂_b × (r̄_b/r_b) × (r̄_b/r_b), written as that product; Λ = M̂ when no positive distance is given
  (the live sky supplies none).
* D_b = 1 + score/50 from the degree-level dignity manifest (:mod:`shared.alchemy.dignity`); sign-mean when
  the position has no degree.

totals = Σ contrib (per axis, in chart key order) + aspect modifications (:mod:`shared.alchemy.aspects`),
the latter accumulated in strength-descending order. Aspects use every *object* position (bare sign strings
get none; a sign-only object counts as degree 0), including a supplied Ascendant but never an injected one.

Golden, bit-exact: ``shared/data/golden/esms_conformance.json`` (20 charts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, NamedTuple

from shared.alchemy.aspects import Aspect, aspect_modifications, find_aspects
from shared.alchemy.chart import ChartError, ChartPoint
from shared.alchemy.constants import (
    ASCENDANT,
    ESMS_AXES,
    INERTIAL_MASS_WEIGHT,
    MEAN_GEOCENTRIC_AU,
    SECTARIAN_ESMS,
    SIGN_ELEMENT,
    SIGN_INDEX,
    canonical_body,
    inertial_mass_weight,
)
from shared.alchemy.dignity import dignity_lookup

__all__ = [
    "EsmsResult",
    "PlanetContribution",
    "ascendant_vessel",
    "calculate_esms",
    "gravitational_inertia",
]

Vec = tuple[float, float, float, float]


def _vessel(sign: str, decan: int) -> Vec:
    # The same sequence of additions as the upstream engines, so every component is bit-identical.
    s = e = m = su = 0.5
    element = SIGN_ELEMENT.get(sign, "Earth")
    if element == "Fire":
        s += 0.5
        su += 0.25
    elif element == "Earth":
        m += 0.5
        su += 0.25
    elif element == "Water":
        e += 0.5
        m += 0.25
    else:
        s += 0.25
        su += 0.5
    if decan == 0:
        m += 0.1
    elif decan == 1:
        e += 0.1
    else:
        s += 0.1
    return (s, e, m, su)


_VESSELS: Final = {(sign, decan): _vessel(sign, decan) for sign in SIGN_INDEX for decan in range(3)}


def _decan(degree: float) -> int:
    deg = max(0.0, min(29.999, degree))
    return int(deg // 10)


def ascendant_vessel(sign: str, degree: float = 0.0) -> dict[str, float]:
    """The Ascendant's positional "physical vessel" (domain-analysis §3.3) as {axis: value}."""
    return dict(zip(ESMS_AXES, _VESSELS[sign, _decan(degree)], strict=True))


def gravitational_inertia(body: str, distance: float | None = None) -> float:
    """Λ = M̂ · (r̄/r) · (r̄/r); M̂ alone when ``distance`` is missing or not > 0, or the body has no r̄."""
    mass = INERTIAL_MASS_WEIGHT.get(body)
    if mass is None:
        mass = inertial_mass_weight(body)
    rbar = MEAN_GEOCENTRIC_AU.get(body)
    if rbar is None or distance is None or not distance > 0:
        return mass
    q = rbar / distance
    return mass * q * q


def _sect_base(body: str, diurnal: bool) -> Vec:
    row = SECTARIAN_ESMS[body]["diurnal" if diurnal else "nocturnal"]
    return (row["Spirit"], row["Essence"], row["Matter"], row["Substance"])


_SECT_BASE: Final = {
    (body, diurnal): _sect_base(body, diurnal)
    for body in SECTARIAN_ESMS
    if body != ASCENDANT
    for diurnal in (True, False)
}


class PlanetContribution(NamedTuple):
    """One body's Layer 1 × 2 share: ``esms`` = base × Λ × D per axis (domain.md §3).

    ``base`` is the Layer-1 vector [S, E, M, Su] (the vessel for the Ascendant), ``alchm_weight`` is Λ,
    ``dignity_resolution`` is "degree", "sign-mean" or "none" (Ascendant).
    """

    body: str
    sign: str
    esms: dict[str, float]
    base: tuple[float, float, float, float]
    alchm_weight: float
    dignity_multiplier: float
    dignity_score: float
    dignity_resolution: str
    is_vessel: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "esms": dict(self.esms),
            "sign": self.sign,
            "alchmWeight": self.alchm_weight,
            "dignityMultiplier": self.dignity_multiplier,
            "dignityScore": self.dignity_score,
            "dignityResolution": self.dignity_resolution,
            "isGroundingVessel": self.is_vessel,
        }


@dataclass(frozen=True, slots=True)
class EsmsResult:
    """Totals and their decomposition: Σ per_planet[b].esms + aspect_modifications = totals (per axis,
    up to the float summation order, which is chart order then the aspect total)."""

    spirit: float
    essence: float
    matter: float
    substance: float
    per_planet: Mapping[str, PlanetContribution]
    aspects: tuple[Aspect, ...]
    aspect_modifications: Mapping[str, float]
    diurnal: bool
    ascendant_injected: bool = False

    @property
    def totals(self) -> dict[str, float]:
        """``{"Spirit", "Essence", "Matter", "Substance"}``."""
        return {
            "Spirit": self.spirit,
            "Essence": self.essence,
            "Matter": self.matter,
            "Substance": self.substance,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "esms": self.totals,
            "perPlanet": {body: c.as_dict() for body, c in self.per_planet.items()},
            "aspects": [a.as_dict() for a in self.aspects],
            "aspectModifications": dict(self.aspect_modifications),
            "isDiurnal": self.diurnal,
            "ascendantInjected": self.ascendant_injected,
        }


_INJECTED_ASCENDANT: Final = ChartPoint(sign="aries", degree=0.0)
_BODY_FAST: Final = {body: body for body in (*SECTARIAN_ESMS,)}
_MASS: Final = dict(INERTIAL_MASS_WEIGHT)
_RBAR: Final = dict(MEAN_GEOCENTRIC_AU)
_new_tuple: Final = tuple.__new__


def _bare_sign(body: str, value: object) -> str:
    if isinstance(value, str):
        sign = value.strip().lower()
        if sign in SIGN_INDEX:
            return sign
        raise ChartError(f"positions.{body}", f"unknown zodiac sign {value!r}")
    raise ChartError(f"positions.{body}", f"must be a ChartPoint or a sign name, got {type(value).__name__}")


def calculate_esms(
    chart: Mapping[str, ChartPoint | str],
    diurnal: bool,
    *,
    inject_ascendant: bool = False,
) -> EsmsResult:
    """ESMS of a chart under the canonical three-layer engine (design/domain.md §3).

    ``chart`` is what :func:`shared.alchemy.chart.parse_chart` returns (other keys are canonicalised
    case-insensitively; unknown ones are skipped). ``inject_ascendant`` adds an Aries 0° vessel after the
    other bodies when the chart has no Ascendant; an injected Ascendant takes part in no aspect.
    Pure: no I/O, no state. Raises :class:`ChartError` only for a bare sign string that is not a sign.
    """
    s = e = m = su = 0.0
    per_planet: dict[str, PlanetContribution] = {}
    aspect_points: list[tuple[str, float]] = []

    entries: list[tuple[str, ChartPoint | str]] = []
    for key, value in chart.items():
        body = _BODY_FAST.get(key) or canonical_body(key)
        if body is not None and value is not None:
            entries.append((body, value))
    injected = inject_ascendant and all(body != ASCENDANT for body, _ in entries)
    if injected:
        entries.append((ASCENDANT, _INJECTED_ASCENDANT))

    for body, value in entries:
        point: ChartPoint | None
        if isinstance(value, ChartPoint):
            point = value
            sign = value.sign if value.sign is not None else value.resolved_sign
            lon = value.lon
        else:
            point = None
            sign = _bare_sign(body, value)
            lon = None
        if body == ASCENDANT:
            base = _VESSELS[sign, _decan(point.degree_in_sign if point is not None else 0.0)]
            inertia = dmult = 1.0
            dscore = 0.0
            resolution = "none"
            cs, ce, cm, csu = base
        else:
            base = _SECT_BASE[body, diurnal]
            # Λ inlined from gravitational_inertia (same arithmetic): M̂·(r̄/r)·(r̄/r), or M̂ without distance.
            inertia = _MASS[body]
            distance = point.distance if point is not None else None
            if distance is not None and distance > 0:
                q = _RBAR[body] / distance
                inertia = inertia * q * q
            dscore, dmult = dignity_lookup(body, sign, lon, diurnal)
            resolution = "degree" if lon is not None else "sign-mean"
            # base × Λ × D, left to right; a zero base unit stays exactly 0 (and never meets an inf).
            cs = base[0] * inertia * dmult if base[0] else 0.0
            ce = base[1] * inertia * dmult if base[1] else 0.0
            cm = base[2] * inertia * dmult if base[2] else 0.0
            csu = base[3] * inertia * dmult if base[3] else 0.0
        s += cs
        e += ce
        m += cm
        su += csu
        per_planet[body] = _new_tuple(
            PlanetContribution,
            (
                body,
                sign,
                {"Spirit": cs, "Essence": ce, "Matter": cm, "Substance": csu},
                base,
                inertia,
                dmult,
                dscore,
                resolution,
                body == ASCENDANT,
            ),
        )
        if point is not None and point is not _INJECTED_ASCENDANT:
            # Sign-only object positions count as degree 0 of their sign (domain.md §3).
            aspect_points.append((body, lon if lon is not None else SIGN_INDEX[sign] * 30.0))

    aspects = find_aspects(aspect_points)
    mods = aspect_modifications(aspects)
    return EsmsResult(
        spirit=s + mods["Spirit"],
        essence=e + mods["Essence"],
        matter=m + mods["Matter"],
        substance=su + mods["Substance"],
        per_planet=MappingProxyType(per_planet),
        aspects=tuple(aspects),
        aspect_modifications=MappingProxyType(mods),
        diurnal=diurnal,
        ascendant_injected=injected,
    )
