"""ESMS engine behaviour beyond the golden charts (design/domain.md §3)."""

from __future__ import annotations

import pytest

from shared.alchemy import (
    INERTIAL_MASS_WEIGHT,
    MEAN_GEOCENTRIC_AU,
    ChartError,
    ChartPoint,
    ascendant_vessel,
    calculate_esms,
    gravitational_inertia,
    parse_chart,
)


def test_injected_vs_supplied_ascendant() -> None:
    # Sun 0° Aries and an Ascendant 0° Aries: a supplied Ascendant aspects the Sun (default table),
    # an injected one contributes the same vessel but takes part in no aspect.
    supplied = calculate_esms({"Sun": ChartPoint("aries", 0.0), "Ascendant": ChartPoint("aries", 0.0)}, True)
    injected = calculate_esms({"Sun": ChartPoint("aries", 0.0)}, True, inject_ascendant=True)
    assert injected.ascendant_injected and not supplied.ascendant_injected
    assert supplied.per_planet["Ascendant"].esms == injected.per_planet["Ascendant"].esms
    assert [(a.body1, a.body2, a.type) for a in supplied.aspects] == [("Sun", "Ascendant", "conjunction")]
    assert injected.aspects == ()
    # Default-table conjunction, strength 1: +0.1 Spirit, +0.1 Essence.
    assert supplied.spirit == injected.spirit + 0.1
    assert supplied.essence == injected.essence + 0.1
    assert supplied.matter == injected.matter


def test_inject_is_a_no_op_when_an_ascendant_exists() -> None:
    chart = {"Sun": ChartPoint("leo", 1.0), "Ascendant": ChartPoint("libra", 12.0)}
    assert calculate_esms(chart, True, inject_ascendant=True) == calculate_esms(chart, True)


def test_injected_ascendant_is_aries_zero_vessel_appended_last() -> None:
    result = calculate_esms({"Moon": "cancer"}, False, inject_ascendant=True)
    assert list(result.per_planet) == ["Moon", "Ascendant"]
    assert result.per_planet["Ascendant"].esms == ascendant_vessel("aries", 0.0)
    assert ascendant_vessel("aries", 0.0) == {"Spirit": 1.0, "Essence": 0.5, "Matter": 0.6, "Substance": 0.75}


@pytest.mark.parametrize(
    ("sign", "degree", "expected"),
    [
        ("aries", 5.0, (1.0, 0.5, 0.6, 0.75)),
        ("taurus", 15.0, (0.5, 0.6, 1.0, 0.75)),
        ("pisces", 29.9999, (0.6, 1.0, 0.75, 0.5)),
        ("gemini", 20.0, (0.85, 0.5, 0.5, 1.0)),
    ],
)
def test_vessel_by_element_and_decan(sign: str, degree: float, expected: tuple[float, ...]) -> None:
    got = tuple(ascendant_vessel(sign, degree).values())
    assert got == pytest.approx(expected, abs=1e-15)


def test_bare_sign_strings_get_no_aspects_but_sign_only_objects_do() -> None:
    bare = calculate_esms({"Sun": "aries", "Moon": "aries"}, True)
    assert bare.aspects == ()
    objects = calculate_esms({"Sun": ChartPoint("aries"), "Moon": ChartPoint("aries")}, True)
    assert [(a.type, a.strength) for a in objects.aspects] == [("conjunction", 1.0)]  # both at degree 0
    # ...while dignity of a sign-only body is the sign mean, never 0° (no Mars face, no Jupiter term).
    assert objects.per_planet["Sun"].dignity_resolution == "sign-mean"
    assert objects.per_planet["Sun"].dignity_multiplier == bare.per_planet["Sun"].dignity_multiplier


def test_lambda_uses_distance_only_when_supplied() -> None:
    rbar = MEAN_GEOCENTRIC_AU["Moon"]
    assert gravitational_inertia("Moon") == INERTIAL_MASS_WEIGHT["Moon"]
    assert gravitational_inertia("Moon", rbar) == INERTIAL_MASS_WEIGHT["Moon"]
    assert gravitational_inertia("Moon", 0.0) == INERTIAL_MASS_WEIGHT["Moon"]
    perigee = 0.002384073736896684
    q = rbar / perigee
    assert gravitational_inertia("Moon", perigee) == INERTIAL_MASS_WEIGHT["Moon"] * q * q
    assert gravitational_inertia("Ascendant", 5.0) == 1.0
    raw = {"Moon": {"sign": "taurus", "degree": 3, "distance": perigee}}
    live = calculate_esms(parse_chart(raw, distances=False), True)
    natal = calculate_esms(parse_chart(raw), True)
    assert live.per_planet["Moon"].alchm_weight == INERTIAL_MASS_WEIGHT["Moon"]
    assert natal.essence > live.essence


def test_summation_follows_chart_order() -> None:
    a = {
        "Sun": ChartPoint("leo", 3.0),
        "Mercury": ChartPoint("virgo", 2.0),
        "Jupiter": ChartPoint("aries", 1.0),
    }
    b = dict(reversed(list(a.items())))
    ra, rb = calculate_esms(a, True), calculate_esms(b, True)
    assert list(ra.per_planet) == ["Sun", "Mercury", "Jupiter"]
    assert list(rb.per_planet) == ["Jupiter", "Mercury", "Sun"]
    assert ra.spirit == pytest.approx(rb.spirit, rel=1e-15)


def test_non_canonical_keys_and_unknown_bodies() -> None:
    got = calculate_esms({"sun": ChartPoint("leo", 3.0), "NorthNode": ChartPoint("leo", 3.0)}, True)
    assert list(got.per_planet) == ["Sun"]


def test_bad_bare_sign_raises() -> None:
    with pytest.raises(ChartError):
        calculate_esms({"Sun": "ophiuchus"}, True)


def test_as_dict_shape() -> None:
    d = calculate_esms(parse_chart({"Sun": {"sign": "leo", "degree": 1}, "Moon": "cancer"}), True).as_dict()
    assert set(d) == {"esms", "perPlanet", "aspects", "aspectModifications", "isDiurnal", "ascendantInjected"}
    assert set(d["perPlanet"]["Sun"]) >= {"esms", "sign", "alchmWeight", "dignityMultiplier"}
