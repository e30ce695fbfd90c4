"""All 20 ESMS conformance charts, bit-exact (design/domain.md §3; golden esms_conformance.json)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from shared.alchemy import (
    INERTIAL_MASS_WEIGHT,
    MEAN_GEOCENTRIC_AU,
    PLANET_MASS,
    calculate_esms,
    gravitational_inertia,
    parse_chart,
)
from tests.unit.alchemy.conftest import ESMS_CONFORMANCE

CHARTS = ESMS_CONFORMANCE["charts"]
AXES = ("spirit", "essence", "matter", "substance")


def _run(chart: dict[str, Any]) -> dict[str, float]:
    result = calculate_esms(parse_chart(chart["planetary_positions"]), chart["is_diurnal"])
    return {axis: getattr(result, axis) for axis in AXES}


def test_fixture_shape() -> None:
    assert ESMS_CONFORMANCE["version"] == "2.4.0"
    assert len(CHARTS) == 20


@pytest.mark.parametrize("chart", CHARTS, ids=[c["id"] for c in CHARTS])
def test_chart_is_bit_exact(chart: dict[str, Any]) -> None:
    got = _run(chart)
    assert got == chart["expected"]  # float ==, no tolerance
    for axis in AXES:
        assert got[axis].hex() == float(chart["expected"][axis]).hex()


@pytest.mark.parametrize("chart", CHARTS, ids=[c["id"] for c in CHARTS])
def test_micro_units(chart: dict[str, Any]) -> None:
    got = _run(chart)
    assert {axis: math.floor(got[axis] * 1e6) for axis in AXES} == chart["expected_micro"]


@pytest.mark.parametrize("chart", CHARTS, ids=[c["id"] for c in CHARTS])
def test_lambda_in_the_engine_is_gravitational_inertia(chart: dict[str, Any]) -> None:
    result = calculate_esms(parse_chart(chart["planetary_positions"]), chart["is_diurnal"])
    for body, contribution in result.per_planet.items():
        distance = chart["planetary_positions"][body].get("distance")
        assert contribution.alchm_weight == gravitational_inertia(body, distance)


@pytest.mark.parametrize("chart", CHARTS, ids=[c["id"] for c in CHARTS])
def test_decomposition_adds_up(chart: dict[str, Any]) -> None:
    result = calculate_esms(parse_chart(chart["planetary_positions"]), chart["is_diurnal"])
    for axis, key in zip(AXES, ("Spirit", "Essence", "Matter", "Substance"), strict=True):
        parts = sum(c.esms[key] for c in result.per_planet.values()) + result.aspect_modifications[key]
        assert math.isclose(parts, getattr(result, axis), rel_tol=1e-12, abs_tol=1e-12)


def test_source_tables_match_fixture() -> None:
    assert dict(MEAN_GEOCENTRIC_AU) == ESMS_CONFORMANCE["epoch_mean_geocentric_au"]
    assert dict(PLANET_MASS) == ESMS_CONFORMANCE["mass_weights"]


def test_inertial_scale_anchors() -> None:
    assert INERTIAL_MASS_WEIGHT["Sun"] == 1.0
    assert INERTIAL_MASS_WEIGHT["Ascendant"] == 1.0
    assert 0.1 < INERTIAL_MASS_WEIGHT["Pluto"] < 0.11
    assert all(w > 0 for w in INERTIAL_MASS_WEIGHT.values())


def test_sect_changes_the_result() -> None:
    chart = parse_chart(CHARTS[0]["planetary_positions"])
    assert calculate_esms(chart, True).totals != calculate_esms(chart, False).totals
