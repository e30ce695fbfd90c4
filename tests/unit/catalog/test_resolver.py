"""Ingredient-name resolution: normalisation, stages, traps, determinism, speed, coverage."""

from __future__ import annotations

import time

import pytest

from shared.catalog import Catalog, IngredientResolver
from shared.catalog.audit import Coverage


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("garlic", "garlic"),
        ("Garlic", "garlic"),
        ("  GARLIC  ", "garlic"),
        ("Niçoise olives", "nicoise_olives"),
        ("nicoise olives", "nicoise_olives"),
        ("tomatoes", "tomatoes"),
        ("tomato", "tomato"),
        ("blueberries", "blueberry"),
        ("bay leaves", "bay_leaves"),
        ("bay leaf", "bay_leaf"),
        ("passion_fruit_exotic", "passion_fruit"),
        ("2 cups chopped fresh basil leaves", "basil"),
        ("extra-virgin olive oil", "olive_oil"),
        ("extra virgin olive oil", "olive_oil"),
        ("boneless skinless chicken thighs", "chicken"),
        ("1 (14 oz) can coconut milk", "coconut_milk"),
        ("2 lbs (900g) whole peeled tomatoes, preferably San Marzano", "tomatoes"),
        ("a pinch of salt", "table_salt"),
        ("salt and pepper to taste", "table_salt"),
        ("ghee or butter", "ghee"),
        ("lamb, beef, or chicken", "lamb"),
        ("white or black pepper", "white_pepper"),
        ("chicken or vegetable stock", "chicken_stock"),
        ("oaxaca or monterey jack cheese", "fresh_cheese"),
        ("besan (chickpea flour)", "chickpeas"),
        ("black rice vinegar (chinkiang)", "black_vinegar"),
        ("scallions", "scallion"),
        ("green onions", "green_onions"),
        ("cilantro", "cilantro"),
        ("coriander leaves", "cilantro"),
        ("garbanzo beans", "chickpeas"),
        ("aubergine", "eggplant"),
        ("courgette", "zucchini"),
        ("Sichuan peppercorns", "szechuan_peppercorn"),
        ("garlic cloves", "garlic"),
        ("pork belly (samgyeopsal)", "pork"),
        ("ricotta cheese", "fresh_cheese"),
        ("2 lbs beef chuck", "beef"),
        ("eggs", "egg"),
        ("unsalted butter, softened", "butter"),
        ("whole milk", "milk"),
        ("peanut butter", "peanuts"),
        ("oyster or straw mushrooms", "mushrooms"),
        ("fish sauce (nước mắm)", "fish_sauce"),
        ("kaffir lime leaves", "makrut_lime_leaves"),
    ],
)
def test_resolves(resolver: IngredientResolver, text: str, slug: str) -> None:
    res = resolver.resolve(text)
    assert res.slug == slug, res
    assert res.input == text


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("garlic", "exact"),
        ("atlantic_salmon", "alias"),
        ("scallion", "exact"),
        ("aubergine", "synonym"),
        ("raspberries", "plural"),
        ("fresh thai basil leaves", "descriptors"),
        ("shredded mozzarella cheese", "head_noun"),
    ],
)
def test_matched_by(resolver: IngredientResolver, text: str, stage: str) -> None:
    assert resolver.resolve(text).matched_by == stage


@pytest.mark.parametrize(
    ("text", "must_not_be"),
    [
        ("vegan butter", {"butter", "ghee"}),
        ("almond milk", {"milk", "cream"}),
        ("oat milk", {"milk", "cream"}),
        ("coconut milk", {"milk"}),
        ("eggplant", {"egg"}),
        ("eggplants", {"egg"}),
        ("butter lettuce", {"butter"}),
        ("peanut butter", {"butter"}),
        ("butternut squash", {"butter"}),
        ("nutmeg", {"walnuts", "pine_nuts"}),
        ("teff flour", {"flour", "all_purpose_flour"}),
        ("vegan cheese", {"cheese", "fresh_cheese"}),
        ("plant-based chicken", {"chicken"}),
        ("mushroom oyster sauce", {"oyster_sauce"}),
        ("vegetarian fish sauce", {"fish_sauce"}),
        ("egg-free mayonnaise", {"mayonnaise", "egg"}),
        ("chicken of the woods mushrooms", {"chicken"}),
        ("gluten-free soy sauce", set()),
    ],
)
def test_traps_never_cross_animal_plant_lines(
    resolver: IngredientResolver, text: str, must_not_be: set[str]
) -> None:
    res = resolver.resolve(text)
    assert res.slug not in must_not_be, res
    if res.ingredient is not None and res.matched_by in ("descriptors", "head_noun"):
        # a guess never brings an animal flag the words do not carry
        text_flags = resolver.diet_rules.scan(text)
        for flag in ("is_meat", "is_poultry", "is_fish", "is_shellfish", "is_dairy", "is_egg", "is_honey"):
            assert not (getattr(res.ingredient.diet, flag) and not getattr(text_flags, flag)), (text, flag)


def test_eggplant_is_eggplant(resolver: IngredientResolver) -> None:
    assert resolver.resolve("eggplant").slug == "eggplant"
    assert resolver.resolve("globe eggplants (aubergines)").slug == "eggplant"


def test_non_food_lines(resolver: IngredientResolver) -> None:
    for text in (
        "bamboo skewers",
        "wooden skewers",
        "clean kitchen towel",
        "banana leaves",
        "dried corn husks",
    ):
        res = resolver.resolve(text)
        assert res.non_food and res.ingredient is None, text
    assert not resolver.resolve("bamboo shoots").non_food


def test_unresolvable_placeholders(resolver: IngredientResolver) -> None:
    for text in ("alchemical binding agent", "aromatic catalyst", "", "   ", "beaten"):
        res = resolver.resolve(text)
        assert res.ingredient is None and not res.non_food


def test_relations_are_reported(resolver: IngredientResolver) -> None:
    assert resolver.resolve("garlic powder").relation == "form"
    assert resolver.resolve("parmigiano-reggiano").relation == "variety"
    assert resolver.resolve("aubergine").relation == "same"


def test_synonym_table_targets_exist(resolver: IngredientResolver) -> None:
    assert resolver.synonym_errors == []


def test_deterministic_and_memoised(catalog: Catalog) -> None:
    a, b = IngredientResolver(catalog), IngredientResolver(catalog)
    names = [line.name for r in catalog.recipes.values() for line in r.ingredients]
    first = [a.resolve(n) for n in names]
    assert first == [b.resolve(n) for n in reversed(names)][::-1]
    assert a.resolve(names[0]) is first[0]


def test_speed_all_recipe_lines(catalog: Catalog) -> None:
    names = [line.name for r in catalog.recipes.values() for line in r.ingredients]
    assert len(names) == 4623
    fresh = IngredientResolver(catalog)
    start = time.process_time()
    for n in names:
        fresh.resolve(n)
    cold = time.process_time() - start
    start = time.process_time()
    for n in names:
        fresh.resolve(n)
    warm = time.process_time() - start
    assert cold < 0.6  # ~0.1 s measured; the budget is 200 ms on an idle machine, x3 for CI noise
    assert warm < 0.05


def test_resolution_share(coverage: Coverage) -> None:
    cov = coverage
    assert cov.lines == 4623
    assert cov.resolved_share >= 0.95  # issue acceptance
    assert cov.resolved >= 4545  # measured 4551/4623 = 98.4% — a regression guard
    # what is left is mostly generator placeholders
    assert cov.unresolved["alchemical binding agent"] == 10
