"""Property tests: totality of thermodynamics, ranges of compatibility (design/domain.md §4, §6)."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.alchemy import (
    ELEMENTS,
    PHI,
    ingredient_pair_score,
    kalchm,
    monica,
    profile_compatibility,
    set_compatibility,
    thermodynamics,
)

ANY_FLOAT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=140.0, max_value=1e6),  # around and beyond the x**x overflow (~143)
    st.sampled_from([0.0, -0.0, 1e-300, 143.0, 143.5, 144.0, 1e154, 1e155, 1e308, -1e308]),
)
POSITIVE = st.floats(min_value=1e-9, max_value=140.0)
PROFILE = st.fixed_dictionaries({el: st.floats(min_value=0.0, max_value=1e6) for el in ELEMENTS})
MESSY_PROFILE = st.dictionaries(st.sampled_from(ELEMENTS), st.floats(allow_nan=True, allow_infinity=True))

FAST = settings(max_examples=200, deadline=None)


@FAST
@given(ANY_FLOAT, ANY_FLOAT, ANY_FLOAT, ANY_FLOAT, ANY_FLOAT, ANY_FLOAT, ANY_FLOAT, ANY_FLOAT)
def test_thermodynamics_is_total(
    s: float, e: float, m: float, su: float, f: float, w: float, ea: float, a: float
) -> None:
    t = thermodynamics(s, e, m, su, f, w, ea, a)
    for value in (t.heat, t.entropy, t.reactivity, t.gregs_energy, t.kalchm, t.monica):
        assert isinstance(value, float)
        assert math.isfinite(value)
    assert t.kalchm > 0


@FAST
@given(ANY_FLOAT, ANY_FLOAT, ANY_FLOAT)
def test_monica_is_total(g: float, r: float, k: float) -> None:
    assert math.isfinite(monica(g, r, k))


@FAST
@given(POSITIVE, POSITIVE, POSITIVE, POSITIVE)
def test_kalchm_positive_for_positive_finite(s: float, e: float, m: float, su: float) -> None:
    k = kalchm(s, e, m, su)
    assert math.isfinite(k)
    assert k > 0


@FAST
@given(ANY_FLOAT, ANY_FLOAT, ANY_FLOAT, ANY_FLOAT)
def test_kalchm_total(s: float, e: float, m: float, su: float) -> None:
    k = kalchm(s, e, m, su)
    assert math.isfinite(k) and k > 0


def test_huge_inputs_fall_back_to_ts_behaviour() -> None:
    for big in (143.5, 180.0, 1e6, float("inf")):
        t = thermodynamics(big, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5)
        assert t.kalchm == 1.0
        assert t.monica == PHI
    t = thermodynamics(float("nan"), 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5)
    assert (t.heat, t.entropy, t.reactivity, t.gregs_energy) == (0.0, 0.0, 0.0, 0.0)


@FAST
@given(PROFILE, PROFILE)
def test_profile_compatibility_range(a: dict[str, float], b: dict[str, float]) -> None:
    c = profile_compatibility(a, b)
    assert 0.7 <= c <= 0.9
    assert profile_compatibility(a, a) == 0.9  # exactly: 0.9 − 0.1·0


@FAST
@given(MESSY_PROFILE, MESSY_PROFILE)
def test_profile_compatibility_range_messy(a: dict[str, float], b: dict[str, float]) -> None:
    assert 0.7 <= profile_compatibility(a, b) <= 0.9


INGREDIENT = st.fixed_dictionaries(
    {"elements": MESSY_PROFILE},
    optional={
        "flavor": st.dictionaries(st.text(max_size=5), st.floats(allow_nan=True, allow_infinity=True)),
        "seasons": st.lists(st.sampled_from(["spring", "summer", "fall", "autumn", "winter", "all"])),
        "heat": ANY_FLOAT,
        "entropy": ANY_FLOAT,
        "reactivity": ANY_FLOAT,
    },
)


@FAST
@given(INGREDIENT, INGREDIENT)
def test_pair_score_in_unit_interval(a: dict[str, object], b: dict[str, object]) -> None:
    p = ingredient_pair_score(a, b)
    for value in (p.total, p.elemental, p.flavor, p.seasonal, p.energy):
        assert 0.0 <= value <= 1.0


@settings(max_examples=50, deadline=None)
@given(st.lists(INGREDIENT, max_size=5))
def test_set_score_in_unit_interval(items: list[dict[str, object]]) -> None:
    result = set_compatibility(items)
    assert 0.0 <= result.score <= 1.0
    n = len(items)
    assert len(result.pairs) == n * (n - 1) // 2
