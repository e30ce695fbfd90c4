"""The Elder Futhark data file: glyphs, order, reversibility, correspondences, lookup, catalog backing."""

from __future__ import annotations

import copy
import json
import unicodedata
from collections import Counter
from typing import Any

import pytest

from services.rune.runes import DATA_FILE, RuneDataError, get_rune_set, normalize_name, parse_rune_set, stem
from shared.alchemy.constants import ELEMENTS, PLANETS

#: domain-analysis.md §7: the correct Elder Futhark code points (upstream used Ogham by mistake).
EXPECTED_CODEPOINTS = {
    "Fehu": 0x16A0,
    "Uruz": 0x16A2,
    "Thurisaz": 0x16A6,
    "Ansuz": 0x16A8,
    "Raidho": 0x16B1,
    "Kenaz": 0x16B2,
    "Gebo": 0x16B7,
    "Wunjo": 0x16B9,
    "Hagalaz": 0x16BA,
    "Naudhiz": 0x16BE,
    "Isa": 0x16C1,
    "Jera": 0x16C3,
    "Eihwaz": 0x16C7,
    "Perthro": 0x16C8,
    "Algiz": 0x16C9,
    "Sowilo": 0x16CA,
    "Tiwaz": 0x16CF,
    "Berkano": 0x16D2,
    "Ehwaz": 0x16D6,
    "Mannaz": 0x16D7,
    "Laguz": 0x16DA,
    "Ingwaz": 0x16DC,
    "Dagaz": 0x16DE,
    "Othala": 0x16DF,
}
NOT_REVERSIBLE = {"Gebo", "Hagalaz", "Naudhiz", "Isa", "Jera", "Eihwaz", "Sowilo", "Ingwaz", "Dagaz"}


def _doc() -> dict[str, Any]:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


def test_twenty_four_runes_in_futhark_order_with_correct_glyphs() -> None:
    runes = get_rune_set().runes
    assert [r.name for r in runes] == list(EXPECTED_CODEPOINTS)
    for i, rune in enumerate(runes, start=1):
        assert rune.position == i
        assert ord(rune.glyph) == EXPECTED_CODEPOINTS[rune.name]
        assert rune.codepoint == f"U+{EXPECTED_CODEPOINTS[rune.name]:04X}"
        assert unicodedata.name(rune.glyph).startswith("RUNIC LETTER")
        assert not 0x1680 <= ord(rune.glyph) <= 0x169F, "Ogham, not runic"


def test_aettir_are_three_groups_of_eight() -> None:
    rs = get_rune_set()
    assert [a.key for a in rs.aettir] == ["freyr", "hagal", "tyr"]
    assert [r.aett for r in rs.runes] == ["freyr"] * 8 + ["hagal"] * 8 + ["tyr"] * 8
    assert rs.aett("Freyr's ætt") is rs.aettir[0] and rs.aett("Heimdall") is rs.aettir[1]
    assert rs.aett("3") is rs.aettir[2] and rs.aett("TYR") is rs.aettir[2] and rs.aett("odin") is None


def test_reversal_only_where_the_shape_allows() -> None:
    for rune in get_rune_set().runes:
        assert rune.reversible is (rune.name not in NOT_REVERSIBLE)
        assert (rune.reversed_meaning is not None) is rune.reversible
        assert (rune.reversed_culinary_guidance is not None) is rune.reversible
        assert rune.meaning_for(True) == (rune.reversed_meaning or rune.meaning)


def test_elements_planets_and_guidance() -> None:
    runes = get_rune_set().runes
    assert Counter(r.element for r in runes) == dict.fromkeys(ELEMENTS, 6)
    planets = Counter(r.planet for r in runes)
    assert set(planets) <= set(PLANETS)
    assert all(planets[p] >= 3 for p in ("Sun", "Moon", "Mercury", "Venus", "Mars", "Jupiter", "Saturn"))
    assert {r.name: r.planet for r in runes}["Tiwaz"] == "Mars"  # Tiw = Mars (Tuesday)
    assert {r.name: r.planet for r in runes}["Sowilo"] == "Sun"
    for rune in runes:
        assert abs(sum(rune.recommended_elements.values()) - 1) < 1e-9
        assert max(rune.recommended_elements, key=rune.recommended_elements.__getitem__) == rune.element
        assert 3 <= len(rune.recommended_ingredients) <= 6
        assert len(rune.culinary_guidance.split()) >= 10 and rune.culinary_guidance.endswith(".")
        assert rune.keywords and rune.themes and rune.sources and rune.correspondence


def test_sources_are_cited() -> None:
    doc = _doc()
    assert any("Anglo-Saxon Rune Poem" in s for s in doc["sources"])
    assert any("Norwegian" in s for s in doc["sources"]) and any("Icelandic" in s for s in doc["sources"])
    assert "reversal_rule" in doc and "merkstave" in doc["reversal_rule"]


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("Thurisaz", "Thurisaz"),
        ("thurs", "Thurisaz"),
        ("Þurisaz", "Thurisaz"),
        ("Naudhiz", "Naudhiz"),
        ("Nauthiz", "Naudhiz"),
        ("NAUDIZ", "Naudhiz"),
        ("Raidho", "Raidho"),
        ("raido", "Raidho"),
        ("Ehwaz", "Ehwaz"),
        ("Ingwaz", "Ingwaz"),
        ("Inguz", "Ingwaz"),
        ("Othala", "Othala"),
        ("othila", "Othala"),
        ("Sowilo", "Sowilo"),
        ("Sowulo", "Sowilo"),
        ("sowelu", "Sowilo"),
        ("Eihwaz", "Eihwaz"),
        ("Eiwaz", "Eihwaz"),
        ("ᚠ", "Fehu"),
        ("U+16DF", "Othala"),
        ("u+16a0", "Fehu"),
        ("1", "Fehu"),
        (" 24 ", "Othala"),
        ("  kenaz ", "Kenaz"),
    ],
)
def test_lookup_by_name_spelling_glyph_position(query: str, name: str) -> None:
    rune = get_rune_set().find(query)
    assert rune is not None and rune.name == name


@pytest.mark.parametrize("query", ["", "Odin", "25", "0", "U+169B", "᚛", "fehux"])
def test_lookup_unknown(query: str) -> None:
    assert get_rune_set().find(query) is None


def test_alternate_names_are_unambiguous() -> None:
    seen: dict[str, str] = {}
    for rune in get_rune_set().runes:
        for spelling in (rune.name, *rune.alternate_names):
            key = normalize_name(spelling)
            assert seen.setdefault(key, rune.name) == rune.name, spelling


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [
        ("celebrating", "celebrat"),
        ("celebrate", "celebrat"),
        ("celebrates", "celebrat"),
        ("friends", "friend"),
        ("families", "fami"),
        ("family", "fami"),
        ("stopped", "stop"),
        ("running", "run"),
        ("stress", "stress"),
        ("need", "need"),
        ("crisis", "crisis"),
    ],
)
def test_stemmer(word: str, stemmed: str) -> None:
    assert stem(word) == stemmed


def test_every_theme_keyword_and_rune_theme_is_known() -> None:
    rs = get_rune_set()
    keys = {t.key for t in rs.themes}
    for rune in rs.runes:
        assert set(rune.themes) <= keys
    for theme in rs.themes:
        assert any(theme.key in rs.stem_index.get(stem(k), ()) for k in theme.keywords)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["runes"].pop(), "24 runes"),
        (lambda d: d["runes"][0].update(glyph="᚛", codepoint="U+169B"), "Runic block"),
        (lambda d: d["runes"][0].update(codepoint="U+16A1"), "does not match"),
        (lambda d: d["runes"][6].update(reversible=True), "reversed texts"),
        (lambda d: d["runes"][0].update(element="Aether"), "element"),
        (lambda d: d["runes"][0].update(planet="Vulcan"), "planet"),
        (lambda d: d["runes"][0]["recommended_elements"].update(Fire=0.9), "sum to 1"),
        (lambda d: d["runes"][0].update(recommended_ingredients=["beef"]), "3–6"),
        (lambda d: d["runes"][0].update(themes={"nonsense": 1.0}), "unknown themes"),
        (lambda d: d["runes"][1].update(alternate_names=["Feoh"]), "ambiguous"),
        (lambda d: d["runes"][8].update(aett="freyr"), "belongs to"),
        (lambda d: d["spreads"].pop("9"), "spreads"),
    ],
)
def test_defective_data_is_refused(mutate: Any, message: str) -> None:
    doc = copy.deepcopy(_doc())
    mutate(doc)
    with pytest.raises(RuneDataError, match=message):
        parse_rune_set(doc)


def test_recommended_ingredients_resolve_in_the_catalog() -> None:
    from shared.catalog.loader import get_catalog
    from shared.catalog.resolver import IngredientResolver

    resolver = IngredientResolver(get_catalog())
    for rune in get_rune_set().runes:
        for name in rune.recommended_ingredients:
            resolution = resolver.resolve(name)
            assert resolution is not None and resolution.ingredient is not None, (rune.name, name)
            assert resolution.matched_by in {"exact", "alias", "synonym", "plural"}, (rune.name, name)


def test_kitchen_index_has_every_ingredient() -> None:
    from services.rune.kitchen import get_kitchen_index

    index = get_kitchen_index()
    assert dict(index.unresolved) == {}
    for rune in get_rune_set().runes:
        items = index.for_rune(rune.name)
        assert len(items) == len(rune.recommended_ingredients)
        assert all(i.slug and i.name and i.category for i in items)
