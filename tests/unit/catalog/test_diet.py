"""Dietary facts: ingredient flags (category + keyword rules) and recipe verdicts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared.catalog import DIETS, Catalog, IngredientLine, IngredientResolver, diet_rules, recipe_diets
from shared.catalog.audit import Coverage
from shared.catalog.models import Recipe


def flags(text: str) -> set[str]:
    return set(diet_rules().scan(text).true_flags())


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        ("coconut milk", set(), {"is_dairy"}),
        ("full-fat coconut milk", set(), {"is_dairy"}),
        ("almond milk", {"is_tree_nut"}, {"is_dairy"}),
        ("oat milk", set(), {"is_dairy"}),
        ("whole milk", {"is_dairy"}, set()),
        ("buttermilk", {"is_dairy"}, set()),
        ("peanut oil", {"is_peanut"}, {"is_tree_nut"}),
        ("peanut butter", {"is_peanut"}, {"is_dairy"}),
        ("butter lettuce", set(), {"is_dairy"}),
        ("vegan butter", set(), {"is_dairy", "is_animal_derived"}),
        ("cocoa butter", set(), {"is_dairy"}),
        ("ghee", {"is_dairy"}, set()),
        ("buckwheat", set(), {"contains_gluten"}),
        ("buckwheat flour", set(), {"contains_gluten"}),
        ("soy sauce", {"contains_gluten"}, set()),
        ("light soy sauce", {"contains_gluten"}, set()),
        ("gluten-free soy sauce", set(), {"contains_gluten"}),
        ("tamari", set(), {"contains_gluten"}),
        ("glutinous rice flour", set(), {"contains_gluten"}),
        ("rice noodles", set(), {"contains_gluten"}),
        ("egg noodles", {"contains_gluten", "is_egg"}, set()),
        ("all-purpose flour", {"contains_gluten"}, set()),
        ("corn tortillas", set(), {"contains_gluten"}),
        ("flour tortillas", {"contains_gluten"}, set()),
        ("eggplant", set(), {"is_egg"}),
        ("egg-free mayonnaise", set(), {"is_egg"}),
        ("mayonnaise", {"is_egg"}, set()),
        ("nutmeg", set(), {"is_tree_nut"}),
        ("butternut squash", set(), {"is_tree_nut"}),
        ("water chestnuts", set(), {"is_tree_nut"}),
        ("coconut", set(), {"is_tree_nut"}),
        ("pine nuts", {"is_tree_nut"}, set()),
        ("honey", {"is_honey", "is_animal_derived"}, {"is_meat"}),
        ("honeydew melon", set(), {"is_honey"}),
        ("fish sauce", {"is_fish"}, set()),
        ("anchovy", {"is_fish"}, set()),
        ("worcestershire sauce", {"is_fish"}, set()),
        ("gelatin", {"is_meat", "is_animal_derived"}, set()),
        ("lard", {"is_meat"}, set()),
        ("oyster sauce", {"is_shellfish"}, set()),
        ("oyster mushrooms", set(), {"is_shellfish"}),
        ("shrimp paste", {"is_shellfish"}, set()),
        ("2 lbs beef chuck", {"is_meat"}, set()),
        ("beefsteak tomatoes", set(), {"is_meat"}),
        ("red kidney beans", set(), {"is_meat"}),
        ("toor dal (pigeon peas)", set(), {"is_poultry"}),
        ("goat cheese", {"is_dairy"}, {"is_meat"}),
        ("brown turkey figs", set(), {"is_poultry"}),
        ("blood orange", set(), {"is_meat"}),
        ("chicken broth", {"is_poultry"}, set()),
        ("kimchi", {"is_fish"}, set()),
        ("dashi", {"is_fish"}, set()),
        ("kombu dashi", set(), {"is_fish"}),
    ],
)
def test_keyword_traps(text: str, present: set[str], absent: set[str]) -> None:
    found = flags(text)
    assert present <= found, (text, found)
    assert not (absent & found), (text, found)


def test_ingredient_flags_from_category_and_keywords(catalog: Catalog) -> None:
    ing = catalog.ingredients
    assert ing["beef"].diet.is_meat and ing["chicken"].diet.is_poultry
    assert ing["cod"].diet.is_fish and not ing["cod"].diet.is_shellfish  # protein/seafood category
    assert ing["shrimp"].diet.is_shellfish and not ing["shrimp"].diet.is_fish
    assert ing["mussels"].diet.is_shellfish
    assert ing["pork_sausage"].diet.is_meat  # upstream category "meats"
    assert not ing["coconut_milk"].diet.is_dairy
    assert ing["ghee"].diet.is_dairy  # upstream category "oil"
    assert ing["peanut_oil"].diet.is_peanut and not ing["peanut_oil"].diet.is_tree_nut
    assert ing["almond_oil"].diet.is_tree_nut
    assert not ing["buckwheat"].diet.contains_gluten and not ing["kasha"].diet.contains_gluten
    assert ing["barley"].diet.contains_gluten and ing["semolina"].diet.contains_gluten
    assert not ing["glutinous_rice"].diet.contains_gluten
    assert ing["soy_sauce"].diet.contains_gluten
    assert ing["curry_roux"].diet.contains_gluten  # slug override
    assert ing["egg"].diet.is_egg and not ing["eggplant"].diet.is_egg
    assert ing["honey"].diet.is_honey and ing["honey"].diet.is_animal_derived
    assert not ing["tofu_varieties"].diet.is_animal_derived
    assert not ing["nutmeg"].diet.is_nut
    for i in ing.values():  # animal-derived is implied by every animal flag
        d = i.diet
        if d.is_meat or d.is_poultry or d.is_fish or d.is_shellfish or d.is_dairy or d.is_egg or d.is_honey:
            assert d.is_animal_derived, i.slug


def _recipe(catalog: Catalog, *names: str) -> Recipe:
    base = next(iter(catalog.recipes.values()))
    return replace(
        base, id="test", ingredients=tuple(IngredientLine(n, 1.0, "cup") for n in names), claimed_diets=()
    )


def test_all_resolved_plant_recipe_is_vegan(catalog: Catalog, resolver: IngredientResolver) -> None:
    report = recipe_diets(
        _recipe(catalog, "basmati rice", "coconut milk", "garlic", "salt", "water"), resolver
    )
    assert report.unresolved == ()
    assert all(report.satisfied(d) is True for d in DIETS)
    assert set(report.tags) == set(DIETS)


def test_unresolved_line_blocks_claims(catalog: Catalog, resolver: IngredientResolver) -> None:
    report = recipe_diets(_recipe(catalog, "basmati rice", "alchemical binding agent"), resolver)
    assert report.unresolved == ("alchemical binding agent",)
    for diet in DIETS:
        verdict = report.verdicts[diet]
        assert verdict.satisfied is None and verdict.unresolved == ("alchemical binding agent",)
    assert report.tags == ()


def test_unresolved_line_that_names_meat_still_violates(
    catalog: Catalog, resolver: IngredientResolver
) -> None:
    assert resolver.resolve("1 whole rabbit").ingredient is None  # the catalog has no rabbit
    report = recipe_diets(_recipe(catalog, "rice", "2 lbs beef chuck", "1 whole rabbit"), resolver)
    assert report.unresolved == ("1 whole rabbit",)
    assert report.satisfied("vegetarian") is False
    assert report.satisfied("pescatarian") is False
    issues = {i.line: i for i in report.verdicts["vegetarian"].violations}
    assert issues["1 whole rabbit"].ingredient is None and issues["1 whole rabbit"].from_text
    assert issues["2 lbs beef chuck"].ingredient == "beef"
    assert report.satisfied("dairy-free") is None  # the unresolved line might be anything


def test_violations_name_the_lines(catalog: Catalog, resolver: IngredientResolver) -> None:
    report = recipe_diets(_recipe(catalog, "soy sauce", "honey", "shrimp", "almonds", "butter"), resolver)
    assert report.satisfied("gluten-free") is False
    assert [v.line for v in report.verdicts["gluten-free"].violations] == ["soy sauce"]
    assert {v.line for v in report.verdicts["vegan"].violations} == {"honey", "shrimp", "butter"}
    assert {v.line for v in report.verdicts["vegetarian"].violations} == {"shrimp"}
    assert report.satisfied("pescatarian") is True
    assert {v.line for v in report.verdicts["nut-free"].violations} == {"almonds"}
    assert {v.line for v in report.verdicts["dairy-free"].violations} == {"butter"}


def test_alternatives_are_conservative(catalog: Catalog, resolver: IngredientResolver) -> None:
    report = recipe_diets(_recipe(catalog, "water or chicken broth", "oyster or straw mushrooms"), resolver)
    assert report.satisfied("vegetarian") is False  # one alternative is chicken
    assert report.satisfied("pescatarian") is False
    veg = recipe_diets(_recipe(catalog, "oyster or straw mushrooms", "rice"), resolver)
    assert veg.satisfied("vegan") is True  # oyster *mushrooms*, not oysters


def test_non_food_lines_do_not_block(catalog: Catalog, resolver: IngredientResolver) -> None:
    report = recipe_diets(_recipe(catalog, "rice", "bamboo skewers"), resolver)
    assert report.unresolved == () and report.satisfied("vegan") is True


def test_never_claims_with_unresolved_lines(catalog: Catalog, resolver: IngredientResolver) -> None:
    n_true = 0
    for recipe in list(catalog.recipes.values())[::3]:  # a third of the data set keeps this test fast
        report = recipe_diets(recipe, resolver)
        for verdict in report.verdicts.values():
            if verdict.satisfied is True:
                n_true += 1
                assert not report.unresolved
            if verdict.satisfied is None:
                assert verdict.unresolved and not verdict.violations
    assert n_true > 0


def test_diet_verdict_totals(coverage: Coverage) -> None:
    for diet, counts in coverage.diet_verdicts.items():
        assert sum(counts.values()) == 579, diet
        assert counts["True"] > 0 and counts["False"] > 0, diet
    assert coverage.diet_verdicts["vegan"]["True"] < coverage.diet_verdicts["vegetarian"]["True"]


def test_known_recipes(catalog: Catalog, resolver: IngredientResolver) -> None:
    mandazi = recipe_diets(
        catalog.recipes["african-breakfast-spring-authentic-east-african-mandazi"], resolver
    )
    assert mandazi.satisfied("vegetarian") is True  # flour, sugar, yeast, cardamom, coconut milk, egg, oil
    assert mandazi.satisfied("vegan") is False  # the egg
    assert mandazi.satisfied("gluten-free") is False
    assert mandazi.satisfied("dairy-free") is True  # coconut milk is not dairy
