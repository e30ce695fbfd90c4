"""Recipe pipeline on a hand-computed example (design/domain.md §5)."""

from __future__ import annotations

import math

import pytest

from shared.alchemy import COOKING_METHOD_MODIFIERS, quantity_scale, recipe_elements, recipe_elements_detail

GINGER = {"Fire": 0.5, "Water": 0.1, "Earth": 0.15, "Air": 0.25}
WATER = {"Fire": 0.0, "Water": 1.0, "Earth": 0.0, "Air": 0.0}
SKY = {"Fire": 0.4, "Water": 0.3, "Earth": 0.2, "Air": 0.1}


def test_quantity_scale() -> None:
    assert quantity_scale(100) == math.log(1 + 100 / 100) / math.log(11)
    assert quantity_scale(100) == pytest.approx(0.2890648263178878, abs=1e-16)
    assert quantity_scale(1000) == 1.0
    assert quantity_scale(5000) == 1.0
    assert quantity_scale(0) == 0.0
    assert quantity_scale(-5) == 0.0
    assert quantity_scale(float("nan")) == 0.0
    assert quantity_scale(float("inf")) == 1.0
    # log(1 + q/100), not log1p: the two differ in the last bit for some q.
    assert quantity_scale(5) == math.log(1 + 5 / 100) / math.log(11)


def test_method_table() -> None:
    assert len(COOKING_METHOD_MODIFIERS) == 28
    assert dict(COOKING_METHOD_MODIFIERS["grilling"]) == {"Fire": 1.4, "Water": 0.6, "Earth": 0.9, "Air": 1.1}
    for method in ("chopping", "slicing"):
        assert dict(COOKING_METHOD_MODIFIERS[method]) == {
            "Fire": 1.0,
            "Water": 0.95,
            "Earth": 1.0,
            "Air": 1.05,
        }
    assert dict(COOKING_METHOD_MODIFIERS["raw"]) == dict.fromkeys(("Fire", "Water", "Earth", "Air"), 1.0)


def test_hand_computed_example() -> None:
    # 100 g ginger, 1000 g water, a zero-amount line (contributes nothing), then grill and steam;
    # "pan-frying" is not a canonical name and is skipped (reported).
    f100 = 0.2890648263178878  # ln 2 / ln 11
    lines = [(100.0, GINGER), (1000.0, WATER), (0.0, {"Fire": 1.0})]
    detail = recipe_elements_detail(lines, SKY, ["grilling", "pan-frying", "steaming"])
    assert detail.raw["Fire"] == pytest.approx(f100 * 0.5, rel=1e-15)
    assert detail.raw["Water"] == pytest.approx(f100 * 0.1 + 1.0, rel=1e-15)
    assert detail.combined["Fire"] == pytest.approx(0.7 * 0.1445324131589439 + 0.3 * 0.4, rel=1e-15)
    assert detail.applied_methods == ("grilling", "steaming")
    assert detail.unknown_methods == ("pan-frying",)
    expected = {
        "Fire": (0.7 * (f100 * 0.5) + 0.3 * 0.4) * 1.4 * 0.6,  # ≈ 0.185785
        "Water": (0.7 * (f100 * 0.1 + 1.0) + 0.3 * 0.3) * 0.6 * 1.4,  # ≈ 0.680597
        "Earth": (0.7 * (f100 * 0.15) + 0.3 * 0.2) * 0.9 * 0.9,  # ≈ 0.073185
        "Air": (0.7 * (f100 * 0.25) + 0.3 * 0.1) * 1.1 * 1.1,  # ≈ 0.097509
    }
    got = recipe_elements(lines, SKY, ["grilling", "pan-frying", "steaming"])
    assert got == pytest.approx(expected, rel=1e-15)
    assert got["Fire"] == pytest.approx(0.185785, abs=1e-6)
    assert got["Water"] == pytest.approx(0.680597, abs=1e-6)


def test_no_lines_gives_the_sky_share() -> None:
    assert recipe_elements([], SKY, []) == pytest.approx({el: 0.3 * v for el, v in SKY.items()})


def test_method_names_are_matched_case_insensitively() -> None:
    assert recipe_elements([(100, GINGER)], SKY, ["Grilling"]) == recipe_elements(
        [(100, GINGER)], SKY, ["grilling"]
    )
