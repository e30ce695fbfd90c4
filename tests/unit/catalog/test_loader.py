"""Loading: counts, defect fixes (each counted), rejections, what is (not) served."""

from __future__ import annotations

import json
import math
import shutil
import time
from pathlib import Path

import pytest

from shared.catalog import Catalog, Elements, load_catalog
from shared.catalog.loader import DATA_DIR, CatalogLoadError
from shared.catalog.vocab import LUNAR_PHASES, PLANETS, SEASONS, SIGNS

UPSTREAM = 418


def test_data_files_ship_inside_the_shared_package() -> None:
    assert DATA_DIR == Path(__file__).resolve().parents[3] / "shared" / "data"
    for name in (
        "ingredients.json",
        "recipes.json",
        "sauces.json",
        "cuisines.json",
        "cuisine-middle-eastern.json",
        "supplemental_ingredients.json",
        "LICENSE",
        "README.md",
    ):
        assert (DATA_DIR / name).is_file(), name
    assert "MIT License" in (DATA_DIR / "LICENSE").read_text()
    assert not (DATA_DIR / "__init__.py").exists()


def test_counts(catalog: Catalog) -> None:
    report = catalog.report
    assert report.read["ingredients"] == UPSTREAM
    # 418 records - 3 names duplicated under a second key = 415 distinct upstream ingredients
    assert report.loaded["ingredients"] == 415
    assert sum(1 for i in catalog.ingredients.values() if not i.supplemental) == 415
    assert report.loaded["supplemental ingredients"] == report.read["supplemental ingredients"]
    assert len(catalog.ingredients) == 415 + report.loaded["supplemental ingredients"]
    assert len(catalog.recipes) == report.loaded["recipes"] == 579
    assert len(catalog.sauces) == 18
    assert len(catalog.cuisines) == 15  # 15 stubs, the Middle Eastern one replaced by its full record
    assert report.rejected == {}


def test_defect_fixes_are_counted(catalog: Catalog) -> None:
    fixed = catalog.report.fixed
    assert fixed["ingredient: name duplicated under two keys → merged, second key kept as alias"] == 3
    assert fixed["ingredient: key is not slug(name) → re-keyed, old key kept as alias"] == 13
    assert fixed["recipe: stored ESMS on a 0–180 scale (not served; recomputed from the sky)"] == 29
    assert fixed["recipe: stored ESMS/thermodynamics/monicaScore kept for audit only, never served"] == 579
    assert fixed["recipe: top-level servingSize placeholder (4) ignored for details.baseServingSize"] == 293
    assert fixed["cuisine: stub replaced by its full cuisine file"] == 1
    dropped = catalog.report.dropped_values
    assert dropped["recipe: planet that is not a real body 'Earth'"] == 44
    assert dropped["recipe: planet that is not a real body 'Ceres'"] == 5
    assert dropped["ingredient: ruling planet that is not a real body 'Earth'"] == 2
    assert dropped["ingredient: ruling planet that is not a real body 'Apollo'"] == 1


def test_duplicates_and_rekeys_become_aliases(catalog: Catalog) -> None:
    for old, new in [
        ("passion_fruit_exotic", "passion_fruit"),
        ("quince_exotic", "quince"),
        ("loquat_exotic", "loquat"),
        ("ni_oise_olives", "nicoise_olives"),
        ("atlantic_salmon", "salmon"),
        ("lemon verbena", "lemon_verbena"),
        ("currant_black", "black_currant"),
        ("cheong_fun__rice_noodle_rolls_", "cheong_fun"),
    ]:
        assert old not in catalog.ingredients
        assert catalog.aliases[old] == new
        assert catalog.ingredient(old) is catalog.ingredients[new]
    assert catalog.ingredients["nicoise_olives"].name == "Niçoise olives"
    assert catalog.ingredients["chickpea_protein"].name == "chickpea protein"  # underscores fixed
    assert "horned_melon" in catalog.ingredients["kiwano"].aliases  # parenthetical alternative name


def test_ingredient_model(catalog: Catalog) -> None:
    ginger = catalog.ingredients["ginger"]
    assert ginger.category == "spice" and ginger.subcategory == "rhizome"
    assert ginger.seasons == SEASONS  # "year-round"
    assert ginger.ruling_planets == ("Mars", "Sun")
    assert ginger.favorable_signs == ("aries", "leo", "sagittarius")
    assert ginger.flavor["spicy"] == 0.9 and set(ginger.flavor) <= {
        "sweet",
        "salty",
        "sour",
        "bitter",
        "umami",
        "spicy",
    }
    assert ginger.nutrition is not None and ginger.nutrition.calories == 5
    assert "stir-frying" in ginger.canonical_methods
    assert catalog.ingredients["white_wine_vinegar"].category == "vinegar"  # "vinegars" normalised
    assert catalog.ingredients["pork_sausage"].category == "protein"  # "meats" normalised
    assert catalog.ingredients["pork_sausage"].subcategory == "meat"
    for ing in catalog.ingredients.values():
        assert math.isclose(sum(ing.elements), 1.0, abs_tol=1e-12)
        assert all(v >= 0 for v in ing.elements)
        assert set(ing.seasons) <= set(SEASONS)
        assert set(ing.ruling_planets) <= set(PLANETS)
        assert set(ing.favorable_signs) <= set(SIGNS)
        assert all(isinstance(v, float) for v in ing.flavor.values())


def test_seasons_fall_becomes_autumn(catalog: Catalog) -> None:
    fall_only = [i for i in catalog.ingredients.values() if i.seasons == ("autumn",)]
    assert fall_only, "upstream has 44 ingredients in season ['fall']"


def test_recipe_model(catalog: Catalog) -> None:
    mandazi = catalog.recipes["african-breakfast-spring-authentic-east-african-mandazi"]
    assert mandazi.cuisine.slug == "african" and mandazi.cuisine.detail == "East African"
    assert mandazi.seasons == SEASONS  # details.season ["all"], not the id's "spring"
    assert mandazi.meal_types == ("breakfast", "snack", "dessert")
    assert mandazi.servings == 4 and mandazi.prep_minutes == 120 and mandazi.total_minutes == 140
    assert mandazi.spice_level == "none" and mandazi.spice_scale == 0
    assert [m.canonical for m in mandazi.cooking_methods] == ["kneading", "deep-frying"]
    assert mandazi.astrology.signs == ("taurus", "leo")
    assert mandazi.astrology.lunar_phases == ("first quarter",)
    assert mandazi.ingredients[0].name == "all-purpose flour" and mandazi.ingredients[0].unit == "cups"
    ids = list(catalog.recipes)
    assert ids[0] == mandazi.id  # upstream order kept


def test_stored_thermodynamics_are_never_served(catalog: Catalog) -> None:
    recipe = next(iter(catalog.recipes.values()))
    served = recipe.to_dict()
    for forbidden in ("alchemicalProperties", "thermodynamicProperties", "monicaScore", "raw_audit"):
        assert forbidden not in served
    assert not any(hasattr(recipe, a) for a in ("thermodynamics", "monica", "monica_score", "kalchm"))
    assert "thermodynamicProperties" in recipe.raw_audit  # audit copy only
    sauce = next(iter(catalog.sauces.values()))
    assert "raw_audit" not in sauce.to_dict()


def test_meal_types_courses_and_claimed_diets_are_separated(catalog: Catalog) -> None:
    allowed = {"breakfast", "brunch", "lunch", "dinner", "appetizer", "side", "snack", "dessert", "beverage"}
    seen_diets: set[str] = set()
    seen_courses: set[str] = set()
    for r in catalog.recipes.values():
        assert r.meal_types, r.id
        assert set(r.meal_types) <= allowed
        assert not {"vegan", "vegetarian", "soup", "street food"} & set(r.meal_types)
        seen_diets.update(r.claimed_diets)
        seen_courses.update(r.courses)
    assert {"vegan", "vegetarian", "gluten-free", "low-carb", "raw"} <= seen_diets
    assert {"soup", "salad", "stew", "street food", "dim sum"} <= seen_courses


def test_astrology_is_canonical(catalog: Catalog) -> None:
    for r in catalog.recipes.values():
        assert set(r.astrology.planets) <= set(PLANETS)
        assert "Earth" not in r.astrology.planets and "Ceres" not in r.astrology.planets
        assert set(r.astrology.signs) <= set(SIGNS)
        assert set(r.astrology.lunar_phases) <= set(LUNAR_PHASES)
        assert set(r.seasons) <= set(SEASONS)
        assert math.isclose(sum(r.elements), 1.0, abs_tol=1e-12)


def test_line_repairs(catalog: Catalog) -> None:
    names = {line.name for r in catalog.recipes.values() for line in r.ingredients}
    assert "" not in names
    assert "star anise" in names and "bouquet garni" in names
    ceviche = [r for r in catalog.recipes.values() if "ceviche" in r.id][0]
    assert any(line.name == "red onion" and line.unit == "whole" for line in ceviche.ingredients)
    assert not names & {"beaten", "for glaze", "torn", "finely sliced", "roma", "hass", "juice"}
    assert any(
        line.name == "eggs" and line.notes == "beaten"
        for r in catalog.recipes.values()
        for line in r.ingredients
    )
    assert catalog.report.fixed["recipe line: ingredient name found in the unit field → moved"] == 28


def test_cuisines_and_sauces(catalog: Catalog) -> None:
    me = catalog.cuisines["middle-eastern"]
    assert not me.is_stub and me.name == "Middle Eastern"
    assert {s.slug for s in me.sauces} == {"tahini", "hummus", "zaatar", "harissa", "toum"}
    assert len(me.techniques) >= 5 and len(me.regional_cuisines) == 5
    assert me.dish_names["dinner"]
    assert catalog.cuisines["thai"].is_stub
    assert {c.slug for c in catalog.cuisines.values()} >= {"thai", "hsca", "middle-eastern", "american"}
    recipe_cuisines = {r.cuisine.slug for r in catalog.recipes.values()}
    assert recipe_cuisines <= set(catalog.cuisines)  # every recipe cuisine has a cuisine record
    goma = catalog.sauces["gomadare"]
    assert goma.planets == ("Venus",) and goma.signs == ("taurus",)  # "Earth" dropped
    assert catalog.sauces["ragu"].seasons == ("autumn", "winter")
    assert catalog.sauces["ponzu"].prep_minutes == 5


def test_load_time(tmp_path: Path) -> None:
    start = time.process_time()
    load_catalog()
    assert time.process_time() - start < 1.0  # CPU time; ~0.2 s measured


# --- synthetic data sets: fixes and rejections ------------------------------------------------------


def _mini_dir(tmp_path: Path, ingredients: dict[str, object], recipes: list[object]) -> Path:
    for name in ("sauces.json", "cuisines.json"):
        shutil.copy(DATA_DIR / name, tmp_path / name)
    (tmp_path / "ingredients.json").write_text(json.dumps(ingredients))
    (tmp_path / "recipes.json").write_text(json.dumps(recipes))
    return tmp_path


def _ing(name: str, **elements: float) -> dict[str, object]:
    return {"name": name, "category": "vegetable", "elementalProperties": elements}


def _recipe(rid: str, elements: dict[str, float]) -> dict[str, object]:
    return {
        "id": rid,
        "name": rid,
        "elementalProperties": elements,
        "details": {"cuisine": "Thai", "season": ["fall"]},
        "cuisine": "thai",
        "ingredients": [{"amount": 1, "unit": "cup", "name": "rice"}],
        "classifications": {"mealType": ["dinner", "vegan"], "cookingMethods": ["Sautéing"]},
    }


def test_synthetic_defects_fixed_or_rejected(tmp_path: Path) -> None:
    ingredients = {
        "okay": _ing("Okay", Fire=0.5, Water=0.5),
        "doubled": _ing("Doubled", Fire=2.0, Water=2.0, Earth=4.0),  # sums to 8 -> renormalised
        "neg": _ing("Neg", Fire=-0.1, Water=1.1),
        "zero": _ing("Zero", Fire=0, Water=0),
        "nan": {"name": "Nan", "category": "fruit", "elementalProperties": {"Fire": "x"}},
        "nameless": {"category": "fruit", "elementalProperties": {"Fire": 1}},
    }
    recipes = [
        _recipe("r1", {"Fire": 1, "Water": 1}),
        _recipe("r1", {"Fire": 1}),  # duplicate id
        _recipe("r2", {"Fire": -1, "Water": 2}),
    ]
    cat = load_catalog(_mini_dir(tmp_path, ingredients, recipes))
    assert set(cat.ingredients) == {"okay", "doubled"}
    assert cat.ingredients["doubled"].elements == Elements(0.25, 0.25, 0.5, 0.0)
    rep = cat.report
    assert rep.fixed["ingredient: elements renormalised to sum 1"] == 1
    assert rep.fixed["recipe: elements renormalised to sum 1"] == 1
    assert rep.rejected["ingredient: negative element value"] == 1
    assert rep.rejected["ingredient: elements all zero"] == 1
    assert rep.rejected["ingredient: non-numeric or non-finite element value"] == 1
    assert rep.rejected["ingredient: missing name"] == 1
    assert rep.rejected["recipe: duplicate id"] == 1
    assert rep.rejected["recipe: negative element value"] == 1
    r1 = cat.recipes["r1"]
    assert r1.seasons == ("autumn",) and r1.claimed_diets == ("vegan",) and r1.meal_types == ("dinner",)
    assert r1.cooking_methods[0].canonical == "sauteing"
    assert cat.report.loaded["supplemental ingredients"] == 0  # no supplemental file in that directory


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogLoadError, match="missing"):
        load_catalog(tmp_path)


def test_models_are_frozen(catalog: Catalog) -> None:
    ing = catalog.ingredients["ginger"]
    with pytest.raises(AttributeError):
        ing.name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        catalog.ingredients["x"] = ing  # type: ignore[index]
    assert hash(ing) == hash(catalog.ingredients["ginger"])
