"""Sky elements and alchemize (design/domain.md §4, §5; domain-analysis §1.4, §4.3)."""

from __future__ import annotations

import math

import pytest

from shared.alchemy import (
    ALCHEMIZE_ELEMENT_ORDER,
    ELEMENTS_REGIME,
    INERTIAL_MASS_WEIGHT,
    ChartPoint,
    alchemize,
    calculate_esms,
    dominant_element,
    dominant_modality,
    mass_weighted_sign_elements,
    normalize,
    parse_chart,
    sky_element_totals,
    thermodynamics,
    weighted_mean,
)
from tests.unit.alchemy.conftest import ESMS_CONFORMANCE

NATAL = ESMS_CONFORMANCE["charts"][19]["planetary_positions"]  # chart_20: all ten bodies + Ascendant
LIVE_RAW = {body: pos for body, pos in NATAL.items() if body != "Ascendant"}


def test_sky_totals_sign_then_sect_share() -> None:
    totals = sky_element_totals({"Sun": "leo"}, True)
    assert totals == {"Fire": 1.0, "Water": 0.0, "Earth": 0.0, "Air": 0.0}
    totals = sky_element_totals({"Saturn": "leo"}, False)  # Saturn's night element is Earth
    assert totals == {"Fire": 0.6, "Water": 0.0, "Earth": 0.4, "Air": 0.0}


def test_sky_totals_ignore_chart_order_and_the_ascendant() -> None:
    chart = parse_chart(NATAL)
    reordered = dict(reversed(list(chart.items())))
    assert sky_element_totals(chart, True) == sky_element_totals(reordered, True)
    assert math.fsum(sky_element_totals(chart, True).values()) == pytest.approx(10.0)


def test_mass_weighted_sign_elements() -> None:
    got = mass_weighted_sign_elements({"Sun": "leo", "Pluto": "cancer"})
    total = INERTIAL_MASS_WEIGHT["Sun"] + INERTIAL_MASS_WEIGHT["Pluto"]
    assert got == {
        "Fire": INERTIAL_MASS_WEIGHT["Sun"] / total,
        "Water": INERTIAL_MASS_WEIGHT["Pluto"] / total,
        "Earth": 0.0,
        "Air": 0.0,
    }
    assert mass_weighted_sign_elements({}) == dict.fromkeys(("Fire", "Water", "Earth", "Air"), 0.25)


def test_normalize() -> None:
    assert normalize({"Fire": 2.0, "Water": -1.0, "Earth": 2.0}) == {
        "Fire": 0.5,
        "Water": 0.0,
        "Earth": 0.5,
        "Air": 0.0,
    }
    assert normalize({}) == dict.fromkeys(("Fire", "Water", "Earth", "Air"), 0.25)
    assert normalize({"Fire": float("nan"), "Air": float("inf")}) == dict.fromkeys(
        ("Fire", "Water", "Earth", "Air"), 0.25
    )


def test_dominant_element_tie_orders() -> None:
    tie = {"Fire": 0.1, "Water": 0.2, "Earth": 0.35, "Air": 0.35}
    assert dominant_element(tie) == "Earth"  # canonical Fire, Water, Earth, Air
    assert dominant_element(tie, ALCHEMIZE_ELEMENT_ORDER) == "Air"  # alchemize: Fire, Water, Air, Earth


def test_dominant_modality() -> None:
    assert dominant_modality({"Sun": "leo", "Moon": "taurus", "Mars": "aries"}) == "Fixed"
    assert dominant_modality({"Sun": "leo", "Mars": "aries"}) == "Cardinal"  # tie → Cardinal first
    assert dominant_modality({}) == "Cardinal"


def test_weighted_mean() -> None:
    fire = {"Fire": 1.0}
    water = {"Water": 2.0}  # normalised first
    assert weighted_mean([fire, water]) == {"Fire": 0.5, "Water": 0.5, "Earth": 0.0, "Air": 0.0}
    assert weighted_mean([fire, water], [3.0, 1.0]) == {"Fire": 0.75, "Water": 0.25, "Earth": 0.0, "Air": 0.0}
    assert weighted_mean([fire, water], [0.0, -1.0]) == weighted_mean([fire, water])
    assert weighted_mean([]) == dict.fromkeys(("Fire", "Water", "Earth", "Air"), 0.25)
    with pytest.raises(ValueError):
        weighted_mean([fire], [1.0, 2.0])


def test_alchemize_composes_the_engines() -> None:
    chart = parse_chart(LIVE_RAW, distances=False)
    for diurnal in (True, False):
        result = alchemize(chart, diurnal)
        esms = calculate_esms(chart, diurnal)
        assert result.esms.totals == esms.totals
        totals = sky_element_totals(chart, diurnal)
        assert dict(result.element_totals) == totals
        t = thermodynamics(
            esms.spirit, esms.essence, esms.matter, esms.substance,
            totals["Fire"], totals["Water"], totals["Earth"], totals["Air"],
        )  # fmt: skip
        assert result.thermodynamics == t
        denominator = max(1.0, totals["Fire"] + totals["Water"] + totals["Air"] + totals["Earth"])
        assert dict(result.elemental_properties) == {el: v / denominator for el, v in totals.items()}
        assert result.dominant_element == dominant_element(totals, ALCHEMIZE_ELEMENT_ORDER)
        assert result.dominant_modality == dominant_modality(chart)
        assert result.sun_sign == "gemini"
        assert result.elements_regime == ELEMENTS_REGIME == "sky_totals_0.6_0.4"
        assert 0.0 <= result.score <= 1.0
        assert result.kalchm == t.kalchm and result.monica == t.monica


def test_alchemize_dominant_element_tie_goes_to_air_before_earth() -> None:
    # Mercury in Gemini by night: Air 0.6 + Earth 0.4; Saturn in Capricorn by day: Earth 0.6 + Air 0.4.
    result = alchemize({"Mercury": "gemini", "Saturn": "capricorn"}, False)
    assert result.element_totals["Air"] == 0.6
    result = alchemize({"Mercury": ChartPoint("virgo", 3.0), "Uranus": ChartPoint("aquarius", 3.0)}, False)
    assert result.element_totals["Earth"] == result.element_totals["Air"] == 1.0
    assert result.dominant_element == "Air"


def test_alchemize_degenerate_monica_is_reported() -> None:
    empty = alchemize({}, True)
    assert empty.kalchm == 1.0 and empty.monica == 1.618
    assert empty.degraded == ("monica-degenerate",)
    assert empty.sun_sign is None
    assert alchemize(parse_chart(LIVE_RAW), True).degraded == ()


def test_alchemize_as_dict() -> None:
    d = alchemize(parse_chart(NATAL), True).as_dict()
    assert d["elementsRegime"] == "sky_totals_0.6_0.4"
    assert set(d["thermodynamicProperties"]) == {"heat", "entropy", "reactivity", "gregsEnergy"}
    assert set(d["perPlanet"]) == {*LIVE_RAW, "Ascendant"}
    assert d["perPlanet"]["Ascendant"]["sectElement"] is None
    sun_gemini_by_day = {"Fire": 0.4, "Water": 0.0, "Earth": 0.0, "Air": 0.6}  # sign Air 0.6, sect Fire 0.4
    assert d["perPlanet"]["Sun"]["elements"] == sun_gemini_by_day
    assert d["degraded"] == []
