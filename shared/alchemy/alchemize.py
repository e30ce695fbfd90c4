"""``alchemize``: everything the frontend's live-sky engine reports for one chart (design/domain.md §3, §4;
domain-analysis §4.3). Pure: it takes a chart and a sect, never a time.

* ESMS — the full three-layer engine (:func:`shared.alchemy.esms.calculate_esms`);
* element totals — the raw 0.6 sign / 0.4 sect totals of Sun..Pluto (regime ``"sky_totals_0.6_0.4"``);
* thermodynamics on (ESMS, raw totals) (:func:`shared.alchemy.thermodynamics.thermodynamics`);
* ``elementalProperties`` = totals / max(1, F + W + A + Ea) (the frontend's display form);
* dominant element (ties Fire, Water, Air, Earth), dominant modality (ties Cardinal, Fixed, Mutable),
  Sun sign, per-planet detail, score = clamp((S + E + M + Su + F + W + A + Ea)/20, 0, 1);
* ``degraded`` = ("monica-degenerate",) when Monica is the φ fallback / flagged as the frontend flags it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from shared.alchemy.chart import ChartPoint
from shared.alchemy.constants import PLANETS, SECTARIAN_ELEMENTS, SIGN_ELEMENT, SIGN_MODALITY
from shared.alchemy.esms import EsmsResult, calculate_esms
from shared.alchemy.thermodynamics import Thermodynamics, thermodynamics

__all__ = ["ELEMENTS_REGIME", "AlchemizeResult", "alchemize"]

ELEMENTS_REGIME: Final = "sky_totals_0.6_0.4"


@dataclass(frozen=True, slots=True)
class AlchemizeResult:
    """The result of :func:`alchemize`; :meth:`as_dict` gives the camelCase wire form."""

    esms: EsmsResult
    element_totals: Mapping[str, float]
    elemental_properties: Mapping[str, float]
    thermodynamics: Thermodynamics
    dominant_element: str
    dominant_modality: str
    sun_sign: str | None
    score: float
    diurnal: bool
    degraded: tuple[str, ...] = ()
    elements_regime: str = ELEMENTS_REGIME

    @property
    def spirit(self) -> float:
        return self.esms.spirit

    @property
    def essence(self) -> float:
        return self.esms.essence

    @property
    def matter(self) -> float:
        return self.esms.matter

    @property
    def substance(self) -> float:
        return self.esms.substance

    @property
    def kalchm(self) -> float:
        return self.thermodynamics.kalchm

    @property
    def monica(self) -> float:
        return self.thermodynamics.monica

    def planet_details(self) -> dict[str, dict[str, Any]]:
        """Per body: its ESMS share, its 0.6/0.4 element share, sign, sign/sect element, Λ and dignity."""
        out: dict[str, dict[str, Any]] = {}
        sect_index = 0 if self.diurnal else 1
        for body, c in self.esms.per_planet.items():
            sign_element = SIGN_ELEMENT[c.sign]
            sect_pair = SECTARIAN_ELEMENTS.get(body)
            sect_element = sect_pair[sect_index] if sect_pair is not None else None
            elements = {"Fire": 0.0, "Water": 0.0, "Earth": 0.0, "Air": 0.0}
            if sect_element is not None:  # the Ascendant carries no element share (see elements.py)
                elements[sign_element] += 0.6
                elements[sect_element] += 0.4
            out[body] = {
                "esms": dict(c.esms),
                "elements": elements,
                "sign": c.sign,
                "signElement": sign_element,
                "sectElement": sect_element,
                "alchmWeight": c.alchm_weight,
                "dignityMultiplier": c.dignity_multiplier,
                "dignityScore": c.dignity_score,
                "isGroundingVessel": c.is_vessel,
            }
        return out

    def as_dict(self) -> dict[str, Any]:
        thermo = self.thermodynamics
        return {
            "esms": self.esms.totals,
            "elementalProperties": dict(self.elemental_properties),
            "elementTotals": dict(self.element_totals),
            "elementsRegime": self.elements_regime,
            "thermodynamicProperties": {
                "heat": thermo.heat,
                "entropy": thermo.entropy,
                "reactivity": thermo.reactivity,
                "gregsEnergy": thermo.gregs_energy,
            },
            "kalchm": thermo.kalchm,
            "monica": thermo.monica,
            "score": self.score,
            "dominantElement": self.dominant_element,
            "dominantModality": self.dominant_modality,
            "sunSign": self.sun_sign,
            "isDiurnal": self.diurnal,
            "perPlanet": self.planet_details(),
            "aspects": [a.as_dict() for a in self.esms.aspects],
            "aspectModifications": dict(self.esms.aspect_modifications),
            "degraded": list(self.degraded),
        }


_DEGENERATE: Final = ("monica-degenerate",)


def alchemize(chart: Mapping[str, ChartPoint | str], diurnal: bool) -> AlchemizeResult:
    """Alchemize a chart (already parsed by :func:`shared.alchemy.chart.parse_chart`) under a sect."""
    esms = calculate_esms(chart, diurnal)
    per_planet = esms.per_planet

    # Raw 0.6/0.4 element totals, Sun..Pluto order, sign share then sect share (domain.md §4).
    fire = water = earth = air = 0.0
    sect_index = 0 if diurnal else 1
    cardinal = fixed = mutable = 0
    for contribution in per_planet.values():
        modality = SIGN_MODALITY[contribution.sign]
        if modality == "Cardinal":
            cardinal += 1
        elif modality == "Fixed":
            fixed += 1
        else:
            mutable += 1
    for body in PLANETS:
        c = per_planet.get(body)
        if c is None:
            continue
        for element, share in ((SIGN_ELEMENT[c.sign], 0.6), (SECTARIAN_ELEMENTS[body][sect_index], 0.4)):
            if element == "Fire":
                fire += share
            elif element == "Water":
                water += share
            elif element == "Earth":
                earth += share
            else:
                air += share

    s, e, m, su = esms.spirit, esms.essence, esms.matter, esms.substance
    thermo = thermodynamics(s, e, m, su, fire, water, earth, air)

    denominator = max(1.0, fire + water + air + earth)
    elemental = {
        "Fire": fire / denominator,
        "Water": water / denominator,
        "Earth": earth / denominator,
        "Air": air / denominator,
    }
    # Dominant element: ties resolved Fire, Water, Air, Earth.
    dominant, best = "Fire", fire
    if water > best:
        dominant, best = "Water", water
    if air > best:
        dominant, best = "Air", air
    if earth > best:
        dominant = "Earth"
    modality, top = "Cardinal", cardinal
    if fixed > top:
        modality, top = "Fixed", fixed
    if mutable > top:
        modality = "Mutable"

    score = min(1.0, max(0.0, (s + e + m + su + fire + water + air + earth) / 20))
    sun = per_planet.get("Sun")
    return AlchemizeResult(
        esms=esms,
        element_totals=MappingProxyType({"Fire": fire, "Water": water, "Earth": earth, "Air": air}),
        elemental_properties=MappingProxyType(elemental),
        thermodynamics=thermo,
        dominant_element=dominant,
        dominant_modality=modality,
        sun_sign=sun.sign if sun is not None else None,
        score=score,
        diurnal=diurnal,
        degraded=_DEGENERATE if thermo.monica_degenerate else (),
    )
