"""Compatibility (design/domain.md §6)."""

from __future__ import annotations

import pytest

from shared.alchemy import (
    IngredientProfile,
    cosine,
    element_pair,
    ingredient_pair_score,
    profile_compatibility,
    set_compatibility,
)

FIRE = {"Fire": 1.0, "Water": 0.0, "Earth": 0.0, "Air": 0.0}
WATER = {"Fire": 0.0, "Water": 1.0, "Earth": 0.0, "Air": 0.0}


def test_element_pair() -> None:
    assert element_pair("Fire", "fire") == 0.9
    assert element_pair("Fire", "Water") == 0.7


def test_profile_compatibility_bounds() -> None:
    assert profile_compatibility(FIRE, FIRE) == 0.9
    assert profile_compatibility(FIRE, WATER) == 0.7
    assert profile_compatibility({"Fire": 2.0, "Water": 2.0}, {"Fire": 0.5, "Water": 0.5}) == 0.9
    half = {"Fire": 0.5, "Water": 0.5, "Earth": 0.0, "Air": 0.0}
    assert profile_compatibility(FIRE, half) == pytest.approx(0.8)
    assert profile_compatibility({}, {}) == 0.9  # both all-zero → 0.25 each


def test_cosine() -> None:
    assert cosine(FIRE, FIRE) == 1.0
    assert cosine(FIRE, WATER) == 0.0
    assert cosine({}, FIRE) == 0.0


def test_pair_score_components() -> None:
    a = IngredientProfile(
        elements=FIRE,
        flavor={"sweet": 0.2, "spicy": 0.9, "notes": "x"},
        seasons=["summer", "fall"],
        heat=0.5,
        entropy=0.2,
        reactivity=1.0,
    )
    b = IngredientProfile(
        elements=FIRE,
        flavor={"sweet": 0.4, "bitter": 0.1},
        seasons=["autumn", "winter"],
        heat=0.4,
        entropy=0.4,
        reactivity=5.0,
    )
    p = ingredient_pair_score(a, b)
    assert p.elemental == 0.9
    # keys sweet, spicy, bitter: 1−0.2, 1−0.9, 1−0.1
    assert p.flavor == pytest.approx((0.8 + 0.1 + 0.9) / 3)
    assert p.seasonal == 0.5  # "autumn" is "fall": overlap {fall}, 1 of min(2, 2)
    assert p.energy == 0.0  # 1 − mean(0.1, 0.2, 4.0) < 0 → clamped to 0
    assert p.total == pytest.approx(0.4 * 0.9 + 0.3 * p.flavor + 0.2 * p.seasonal + 0.1 * 0.0)


def test_pair_score_neutral_when_missing() -> None:
    p = ingredient_pair_score({"elements": FIRE}, {"elementalProperties": WATER, "season": "all"})
    assert (p.elemental, p.flavor, p.seasonal, p.energy) == (0.7, 0.5, 0.5, 0.5)
    p = ingredient_pair_score(
        {"elements": FIRE, "seasons": ["winter"]}, {"elements": FIRE, "seasons": ["all"]}
    )
    assert p.seasonal == 1.0


def test_set_compatibility() -> None:
    items = [{"elements": FIRE}, {"elements": FIRE}, {"elements": WATER}]
    result = set_compatibility(items)
    assert len(result.pairs) == 3
    assert result.weakest is not None and result.weakest[:2] == (0, 2)
    assert result.score == pytest.approx(sum(p[2].total for p in result.pairs) / 3)
    assert set_compatibility([{"elements": FIRE}]).score == 1.0
