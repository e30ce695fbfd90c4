"""Text normalisation shared by the resolver, the diet rules and the loader."""

from __future__ import annotations

import pytest

from shared.catalog.text import fold, normalize_text, singularize, slugify


@pytest.mark.parametrize(
    ("word", "singular"),
    [
        ("tomatoes", "tomato"),
        ("potatoes", "potato"),
        ("berries", "berry"),
        ("leaves", "leaf"),
        ("loaves", "loaf"),
        ("chilies", "chili"),
        ("cloves", "clove"),
        ("olives", "olive"),
        ("peaches", "peach"),
        ("radishes", "radish"),
        ("eggs", "egg"),
        ("asparagus", "asparagus"),
        ("couscous", "couscous"),
        ("molasses", "molasses"),
        ("hummus", "hummus"),
        ("bass", "bass"),
        ("swiss", "swiss"),
        ("oats", "oats"),
        ("egg", "egg"),
    ],
)
def test_singularize(word: str, singular: str) -> None:
    assert singularize(word) == singular


def test_fold_and_normalize() -> None:
    assert fold("Niçoise Crème Brûlée") == "nicoise creme brulee"
    assert fold("nước mắm") == "nuoc mam"
    assert fold("Đậu phộng") == "dau phong"
    assert normalize_text("Bird's-Eye Chilies!") == "bird eye chilies"
    assert normalize_text("za'atar") == "zaatar"
    assert normalize_text("salt & pepper") == "salt and pepper"
    assert normalize_text("1/2 cup") == "1/2 cup"


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Kiwano (Horned Melon)", "kiwano"),
        ("Niçoise olives", "nicoise_olives"),
        ("za'atar", "zaatar"),
        ("Basil-Infused Olive Oil", "basil_infused_olive_oil"),
        ("steel-cut oats", "steel_cut_oats"),
        ("Salmon", "salmon"),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


@pytest.mark.parametrize(("word", "singular"), [("puris", "puri"), ("turkeys", "turkey"), ("kiwis", "kiwi")])
def test_singularize_is_and_ys_endings(word: str, singular: str) -> None:
    assert singularize(word) == singular
