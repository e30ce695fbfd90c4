"""The data files: upstream copies unchanged, our own tables well-formed and honest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.catalog import Catalog, DietRules
from shared.catalog.loader import DATA_DIR

CATALOG_DIR = Path(__file__).resolve().parents[3] / "shared" / "catalog"
#: The handed-over data set beside the checkout (``../shared``), when present (it is in CI and sessions).
UPSTREAM = Path(__file__).resolve().parents[4] / "shared" / "data" / "upstream"


@pytest.mark.skipif(not UPSTREAM.is_dir(), reason="upstream snapshot not mounted")
@pytest.mark.parametrize(
    "name",
    [
        "ingredients.json",
        "recipes.json",
        "sauces.json",
        "cuisines.json",
        "cuisine-middle-eastern.json",
        "LICENSE",
    ],
)
def test_upstream_files_are_unchanged_copies(name: str) -> None:
    assert (DATA_DIR / name).read_bytes() == (UPSTREAM / name).read_bytes()


def test_golden_files_present() -> None:
    for name in ("kalchm_golden_vectors.json", "esms_conformance.json", "aspect_effects_golden.json"):
        json.loads((DATA_DIR / "golden" / name).read_text())


def test_readme_states_provenance_and_licence() -> None:
    text = (DATA_DIR / "README.md").read_text()
    assert "MIT" in text and "e03c47f79" in text and "e66bc30a1" in text
    assert "supplemental_ingredients.json" in text


def test_supplemental_records_are_marked_and_copy_their_analogue(catalog: Catalog) -> None:
    raw = json.loads((DATA_DIR / "supplemental_ingredients.json").read_text())
    records = raw["ingredients"]
    assert records and "not upstream" in " ".join(raw["_about"])
    for rec in records:
        assert rec["source"] == f"alchm.kitchen supplemental, elements by analogy to {rec['analogy']}"
        assert rec["why"]
        slug = rec["name"].replace(" ", "_")
        ing = catalog.ingredients[slug]
        analogue = catalog.ingredients[rec["analogy"]]
        assert ing.supplemental and ing.source == rec["source"]
        assert not analogue.supplemental
        assert ing.elements == analogue.elements
    upstream = [i for i in catalog.ingredients.values() if not i.supplemental]
    assert all(i.source == "upstream" for i in upstream)


def test_synonym_table_is_well_formed(catalog: Catalog) -> None:
    raw = json.loads((CATALOG_DIR / "synonyms.json").read_text())
    seen: dict[str, str] = {}
    for relation in ("same", "variety", "form"):
        for phrase, target in raw[relation].items():
            assert phrase == phrase.lower().strip(), phrase
            assert phrase not in seen, f"{phrase!r} in both {seen.get(phrase)} and {relation}"
            seen[phrase] = relation
            assert catalog.ingredient(target) is not None, (phrase, target)
    assert "bamboo skewer" in raw["non_food"]
    # the table never maps a plant-milk / vegan phrase to dairy, nor "agar" to gelatin
    for phrase, target in {**raw["same"], **raw["variety"], **raw["form"]}.items():
        if any(w in phrase for w in ("coconut milk", "almond milk", "oat milk", "soy milk", "vegan", "agar")):
            ing = catalog.ingredient(target)
            assert ing is not None and not ing.diet.is_dairy and not ing.diet.is_meat, phrase


def test_diet_rules_compile() -> None:
    raw = json.loads((CATALOG_DIR / "diet_rules.json").read_text())
    rules = DietRules(raw)
    assert set(rules.flags) == {
        "is_meat",
        "is_poultry",
        "is_fish",
        "is_shellfish",
        "is_dairy",
        "is_egg",
        "is_honey",
        "contains_gluten",
        "is_tree_nut",
        "is_peanut",
        "is_animal_derived",
    }
    for slug in raw["slug_overrides"]:
        assert raw["slug_overrides"][slug]["why"]


def test_unit_weights_are_positive_or_zero() -> None:
    raw = json.loads((CATALOG_DIR / "unit_weights.json").read_text())
    for unit, spec in raw["count_units"].items():
        assert spec["default"] >= 0, unit
        assert all(v >= 0 for v in spec.get("by_keyword", {}).values()), unit
        assert all(v > 0 for v in spec.get("by_category", {}).values()), unit
    assert all(v > 0 for v in raw["size_factors"].values())
