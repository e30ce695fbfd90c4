"""Load, validate and repair the data set into a frozen :class:`~shared.catalog.models.Catalog`.

``load_catalog()`` reads ``shared/data/*.json`` with orjson, validates every record, fixes what is fixable
(with a count per fix), rejects what is not (with a count per reason) and logs a one-line summary on the
``shared.catalog`` logger. ``get_catalog()`` is the process-wide cached instance.

Defects handled (see docs/catalog.md for the full table):

* ingredients: duplicated names under two keys (passion fruit, quince, loquat) → one record, other key an
  alias; keys that are not the slug of the name → re-keyed, old key an alias; elements not summing to 1 →
  renormalised; negative / non-finite / all-zero elements → rejected; ``subCategory`` vs ``subcategory``
  merged; seasons canonicalised (fall → autumn, all/year-round → the four); ruling planets restricted to real
  bodies (Earth, Apollo… dropped); names with underscores get spaces;
* recipes: stored ESMS / thermodynamics / monicaScore never served (audit copy only); top-level ``season``,
  ``mealType`` and ``servingSize`` ignored (id artefacts / placeholders) in favour of ``details`` and
  ``classifications``; mealType labels split into meal types / courses / claimed diets / tags; planets
  restricted to real bodies, signs lowercased, lunar phases canonicalised or dropped; ingredient lines whose
  name landed in the unit field repaired;
* cuisines: the Middle Eastern stub is replaced by its full record; sauces' mixed planet/sign lists split.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import orjson

from shared.catalog.diet import DietRules, diet_rules
from shared.catalog.methods import normalize_method
from shared.catalog.models import (
    EMPTY_MAPPING,
    AstroAffinities,
    Catalog,
    CookingTechnique,
    Cuisine,
    CuisineRef,
    Elements,
    Ingredient,
    IngredientLine,
    LoadReport,
    MethodRef,
    NutritionSummary,
    Recipe,
    RecipeNutrition,
    RegionalCuisine,
    Sauce,
    Substitution,
)
from shared.catalog.text import fold, normalize_text, slugify
from shared.catalog.units import parse_unit
from shared.catalog.vocab import (
    ELEMENTS,
    canonical_lunar_phase,
    canonical_planet,
    canonical_season_tokens,
    canonical_sign,
    classify_meal_label,
    cuisine_slug,
    spice_level,
)

__all__ = ["DATA_DIR", "CatalogLoadError", "get_catalog", "load_catalog"]

logger = logging.getLogger("shared.catalog")

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

INGREDIENTS_FILE = "ingredients.json"
SUPPLEMENTAL_FILE = "supplemental_ingredients.json"
RECIPES_FILE = "recipes.json"
SAUCES_FILE = "sauces.json"
CUISINES_FILE = "cuisines.json"
FULL_CUISINE_FILES = ("cuisine-middle-eastern.json",)

# upstream category -> (our category, subcategory to use when the record has none)
_CATEGORY_MAP: dict[str, tuple[str, str | None]] = {
    "vinegars": ("vinegar", None),
    "meats": ("protein", "meat"),
    "salt": ("seasoning", "salt"),
    "mineral salt": ("seasoning", "salt"),
    "medicinal herb": ("medicinal_herb", None),
}
_MODALITIES = frozenset({"Cardinal", "Fixed", "Mutable"})
_TASTES = ("sweet", "salty", "sour", "bitter", "umami", "spicy")
_MINUTES = re.compile(r"(\d+(?:\.\d+)?)\s*(hours?|hrs?|h|minutes?|mins?|m)?\b")

# Recipe lines whose unit field holds (part of) the ingredient name. Adjectives go in front of the name;
# nouns become the name when the name field is empty or only says how to prepare it.
_ADJECTIVE_UNITS = frozenset({"red", "ripe", "fresh", "hard-boiled", "clean", "green", "yellow", "white"})
_PREP_NAMES = frozenset(
    {"beaten", "torn", "finely sliced", "sliced", "chopped", "minced", "diced", "for glaze"}
)
_NAME_PREFIX_UNITS = {"star": "anise", "bouquet": "garni"}  # unit "star" + name "anise" = "star anise"
_MODIFIER_NAMES = frozenset({"roma", "hass"})  # name "roma" + unit "tomatoes" = "roma tomatoes"
_MODIFIER_UNITS = frozenset({"jalapeno"})  # unit "jalapeño" + name "pepper" = "jalapeño pepper"


class CatalogLoadError(RuntimeError):
    """A data file is missing or is not the expected JSON shape at all."""


class _Stats:
    def __init__(self) -> None:
        self.read: Counter[str] = Counter()
        self.loaded: Counter[str] = Counter()
        self.fixed: Counter[str] = Counter()
        self.rejected: Counter[str] = Counter()
        self.dropped: Counter[str] = Counter()

    def reject(self, kind: str, reason: str, key: object) -> None:
        self.rejected[f"{kind}: {reason}"] += 1
        logger.warning("catalog: rejected %s %r: %s", kind, key, reason)


# --- small validators ---------------------------------------------------------------------------------------


def _num(value: Any) -> float | None:
    t = type(value)
    if t is float:
        return value if math.isfinite(value) else None
    if t is int:
        return float(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        f = float(value)
        return f if math.isfinite(f) else None
    return None


def _obj(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, else an empty mapping."""
    return value if isinstance(value, Mapping) else EMPTY_MAPPING


def _nonneg(value: Any) -> float | None:
    f = _num(value)
    return f if f is not None and f >= 0 else None


def _str(value: Any) -> str | None:
    if isinstance(value, str):
        s = value.strip()
        return s or None
    return None


def _strs(value: Any, dedupe: bool = True) -> tuple[str, ...]:
    """Non-empty stripped strings of a list (or of a single string), in order; duplicates dropped."""
    if type(value) is list:
        items = [v.strip() for v in value if type(v) is str]
    elif type(value) is str:
        items = [value.strip()]
    else:
        return ()
    items = [v for v in items if v]
    if dedupe and len(items) > 1:
        return tuple(dict.fromkeys(items))
    return tuple(items)


def _minutes(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if math.isfinite(value) and value >= 0 else None
    if isinstance(value, str):
        m = _MINUTES.search(value.lower())
        if m:
            qty = float(m.group(1))
            unit = m.group(2) or "m"
            return int(round(qty * 60 if unit.startswith("h") else qty))
    return None


def _elements(raw: Any, stats: _Stats, kind: str) -> Elements | str:
    """Validated, normalised elements, or a rejection reason."""
    if not isinstance(raw, Mapping):
        return "missing elements"
    values: dict[str, float] = {}
    for e in ELEMENTS:
        v = raw.get(e, 0.0)
        f = _num(v)
        if f is None:
            return "non-numeric or non-finite element value"
        if f < 0:
            return "negative element value"
        values[e] = f
    total = math.fsum(values.values())
    if total <= 0:
        return "elements all zero"
    if abs(total - 1.0) > 1e-6:
        stats.fixed[f"{kind}: elements renormalised to sum 1"] += 1
    return Elements.from_values(values)


def _optional_elements(raw: Any) -> Elements | None:
    if not isinstance(raw, Mapping):
        return None
    try:
        return Elements.from_values({e: float(raw.get(e, 0.0)) for e in ELEMENTS})
    except (TypeError, ValueError):
        return None


def _planets_and_signs(
    values: Iterable[Any], stats: _Stats, kind: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    planets: list[str] = []
    signs: list[str] = []
    for v in values:
        p = canonical_planet(v)
        s = canonical_sign(v)
        if p:
            planets.append(p)
        elif s:
            signs.append(s)
        else:
            stats.dropped[f"{kind}: not a real body or sign {v!r}"] += 1
    return tuple(dict.fromkeys(planets)), tuple(dict.fromkeys(signs))


def _methods(values: Iterable[str]) -> tuple[MethodRef, ...]:
    return tuple(MethodRef(v, normalize_method(v)) for v in dict.fromkeys(values))


# --- ingredients --------------------------------------------------------------------------------


def _nutrition_summary(raw: Any) -> NutritionSummary | None:
    if not isinstance(raw, Mapping):
        return None
    macros = _obj(raw.get("macros"))

    def pick(*keys: str) -> float | None:
        for k in keys:
            for src in (macros, raw):
                f = _nonneg(src.get(k))
                if f is not None:
                    return f
        return None

    return NutritionSummary(
        serving_size=_str(raw.get("serving_size")),
        calories=pick("calories"),
        protein_g=pick("protein", "protein_g"),
        carbs_g=pick("carbs", "carbs_g"),
        fat_g=pick("fat", "fat_g"),
        fiber_g=pick("fiber", "fiber_g"),
        sugar_g=pick("sugar", "sugar_g"),
        sodium_mg=pick("sodium", "sodium_mg"),
    )


def _ingredient_seasons(rec: Mapping[str, Any], stats: _Stats) -> tuple[str, ...]:
    raw: list[Any] = []
    source = "season"
    if isinstance(rec.get("season"), list) and rec["season"]:
        raw = rec["season"]
    elif isinstance(rec.get("seasonality"), list) and rec["seasonality"]:
        raw = rec["seasonality"]
        source = "seasonality"
    elif isinstance(rec.get("season"), str):
        raw = [rec["season"]]
    seasons, ignored = canonical_season_tokens(raw)
    for v in ignored:
        stats.dropped[f"ingredient: {source} value that names no season {v!r}"] += 1
    if seasons and [fold(str(x)) for x in raw] != list(seasons):
        stats.fixed["ingredient: seasons canonicalised (fall→autumn, all/year-round→four seasons)"] += 1
    return seasons


def _parse_ingredient(key: str, rec: Any, stats: _Stats, rules: DietRules) -> tuple[Ingredient, str] | None:
    """Returns (ingredient, canonical slug) or None when rejected."""
    if not isinstance(rec, Mapping):
        stats.reject("ingredient", "not an object", key)
        return None
    name = _str(rec.get("name"))
    if name is None:
        stats.reject("ingredient", "missing name", key)
        return None
    if "_" in name:
        name = name.replace("_", " ")
        stats.fixed["ingredient: underscores in name replaced by spaces"] += 1
    category_raw = _str(rec.get("category"))
    if category_raw is None:
        stats.reject("ingredient", "missing category", key)
        return None
    elements = _elements(rec.get("elementalProperties"), stats, "ingredient")
    if isinstance(elements, str):
        stats.reject("ingredient", elements, key)
        return None
    category = category_raw.strip().lower()
    sub_raw = _str(rec.get("subCategory")) or _str(rec.get("subcategory"))
    if (
        _str(rec.get("subCategory"))
        and _str(rec.get("subcategory"))
        and rec["subCategory"] != rec["subcategory"]
    ):
        stats.fixed["ingredient: subCategory and subcategory disagree (subCategory kept)"] += 1
    if category in _CATEGORY_MAP:
        category, default_sub = _CATEGORY_MAP[category]
        sub_raw = sub_raw or default_sub
        stats.fixed["ingredient: category normalised (vinegars→vinegar, meats→protein, salt→seasoning…)"] += 1
    subcategory = re.sub(r"[\s-]+", "_", sub_raw.strip().lower()) if sub_raw else None
    slug = slugify(name)
    if not slug:
        stats.reject("ingredient", "name has no letters", key)
        return None
    aliases: list[str] = []
    if key != slug:
        aliases.append(key)
    paren = re.findall(r"\(([^)]*)\)", name)
    for p in paren:
        p_slug = slugify(p)
        if p_slug and "grade" not in p_slug:
            aliases.append(p_slug)
    astro = _obj(rec.get("astrologicalProfile"))
    planets: list[str] = []
    for p in astro.get("rulingPlanets") or []:
        cp = canonical_planet(p)
        if cp is None:
            stats.dropped[f"ingredient: ruling planet that is not a real body {p!r}"] += 1
        elif cp not in planets:
            planets.append(cp)
    signs: list[str] = []
    for s in [*(astro.get("favorableZodiac") or []), *(rec.get("signAffinities") or [])]:
        cs = canonical_sign(s)
        if cs is None:
            stats.dropped[f"ingredient: favourable sign that is not a sign {s!r}"] += 1
        elif cs not in signs:
            signs.append(cs)
    sensory = _obj(rec.get("sensoryProfile"))
    taste = sensory.get("taste")
    flavor: dict[str, float] = {}
    if isinstance(taste, Mapping):
        for t in _TASTES:
            f = _num(taste.get(t))
            if f is not None:
                flavor[t] = min(1.0, max(0.0, f))
    elif taste is not None:
        stats.dropped["ingredient: non-numeric sensoryProfile.taste (list of words)"] += 1
    culinary = _obj(rec.get("culinaryProfile"))
    method_strings = [
        *_strs(culinary.get("cookingMethods")),
        *_strs(rec.get("recommendedCookingMethods")),
        *_strs(rec.get("cookingMethods")),
    ]
    affinity = tuple(
        dict.fromkeys(normalize_text(a.replace("-", " ")) for a in _strs(culinary.get("cuisineAffinity")))
    )
    modality = _str(rec.get("modality"))
    if modality is not None and modality.capitalize() not in _MODALITIES:
        stats.dropped[f"ingredient: unknown modality {modality!r}"] += 1
        modality = None
    diet = rules.ingredient_flags(slug, name, category, subcategory, aliases)
    return (
        Ingredient(
            slug=slug,
            name=name,
            category=category,
            subcategory=subcategory,
            elements=elements,
            qualities=tuple(dict.fromkeys(q.lower() for q in _strs(rec.get("qualities")))),
            modality=modality.capitalize() if modality else None,
            seasons=_ingredient_seasons(rec, stats),
            ruling_planets=tuple(planets),
            favorable_signs=tuple(signs),
            flavor=MappingProxyType(flavor),
            description=_str(rec.get("description")),
            nutrition=_nutrition_summary(rec.get("nutritionalProfile")),
            cooking_methods=_methods(method_strings),
            cuisine_affinity=affinity,
            diet=diet,
            aliases=tuple(dict.fromkeys(aliases)),
        ),
        slug,
    )


def _load_ingredients(
    raw: Any, supplemental: Any, stats: _Stats, rules: DietRules
) -> tuple[dict[str, Ingredient], dict[str, str]]:
    if not isinstance(raw, Mapping):
        raise CatalogLoadError(f"{INGREDIENTS_FILE}: expected an object keyed by slug")
    by_slug: dict[str, Ingredient] = {}
    key_of: dict[str, str] = {}  # canonical slug -> original key of the kept record
    aliases: dict[str, str] = {}
    for key, rec in raw.items():
        stats.read["ingredients"] += 1
        parsed = _parse_ingredient(str(key), rec, stats, rules)
        if parsed is None:
            continue
        ing, slug = parsed
        existing = by_slug.get(slug)
        if existing is None:
            if key != slug:
                stats.fixed["ingredient: key is not slug(name) → re-keyed, old key kept as alias"] += 1
            by_slug[slug] = ing
            key_of[slug] = key
            continue
        # the same name under two keys: keep one record (the one whose key is the slug, else the first)
        stats.fixed["ingredient: name duplicated under two keys → merged, second key kept as alias"] += 1
        keep, drop, drop_key = (ing, existing, key_of[slug]) if key == slug else (existing, ing, key)
        merged_aliases = tuple(dict.fromkeys([*keep.aliases, *drop.aliases, drop_key]))
        merged_aliases = tuple(a for a in merged_aliases if a != slug)
        by_slug[slug] = _replace_aliases(keep, merged_aliases)
        key_of[slug] = key if keep is ing else key_of[slug]
    # supplemental records (ours): elements copied from the named catalog analogue
    if supplemental is not None:
        records = supplemental.get("ingredients", []) if isinstance(supplemental, Mapping) else []
        for rec in records:
            stats.read["supplemental ingredients"] += 1
            ing_sup = _parse_supplemental(rec, by_slug, stats, rules)
            if ing_sup is not None:
                by_slug[ing_sup.slug] = ing_sup
    for slug, ing in by_slug.items():
        for alias in ing.aliases:
            if alias in by_slug or alias in aliases:
                continue
            aliases[alias] = slug
    stats.loaded["ingredients"] = sum(1 for i in by_slug.values() if not i.supplemental)
    stats.loaded["supplemental ingredients"] = sum(1 for i in by_slug.values() if i.supplemental)
    return dict(sorted(by_slug.items())), dict(sorted(aliases.items()))


def _replace_aliases(ing: Ingredient, aliases: tuple[str, ...]) -> Ingredient:
    from dataclasses import replace

    return replace(ing, aliases=aliases)


def _parse_supplemental(
    rec: Any, by_slug: Mapping[str, Ingredient], stats: _Stats, rules: DietRules
) -> Ingredient | None:
    if not isinstance(rec, Mapping):
        stats.reject("supplemental ingredient", "not an object", rec)
        return None
    name = _str(rec.get("name"))
    category = _str(rec.get("category"))
    analogy = _str(rec.get("analogy"))
    if name is None or category is None or analogy is None:
        stats.reject("supplemental ingredient", "needs name, category and analogy", rec)
        return None
    slug = _str(rec.get("slug")) or slugify(name)
    if slug in by_slug:
        stats.reject("supplemental ingredient", "slug already in the upstream catalog", slug)
        return None
    source_ing = by_slug.get(analogy)
    if source_ing is None:
        stats.reject("supplemental ingredient", f"analogy {analogy!r} is not a catalog ingredient", slug)
        return None
    subcategory = _str(rec.get("subcategory"))
    aliases = tuple(dict.fromkeys(_strs(rec.get("aliases"))))
    seasons, _ignored = canonical_season_tokens(_strs(rec.get("seasons")) or ("all",))
    source = _str(rec.get("source")) or f"alchm.kitchen supplemental, elements by analogy to {analogy}"
    return Ingredient(
        slug=slug,
        name=name,
        category=category.lower(),
        subcategory=subcategory,
        elements=source_ing.elements,
        qualities=tuple(q.lower() for q in _strs(rec.get("qualities"))),
        modality=source_ing.modality,
        seasons=seasons,
        ruling_planets=source_ing.ruling_planets,
        favorable_signs=source_ing.favorable_signs,
        flavor=source_ing.flavor,
        description=_str(rec.get("description")),
        nutrition=None,
        cooking_methods=(),
        cuisine_affinity=(),
        diet=rules.ingredient_flags(slug, name, category.lower(), subcategory, aliases),
        aliases=aliases,
        supplemental=True,
        source=source,
    )


# --- recipes ------------------------------------------------------------------------------------


def _repair_line(
    name: str, unit: str | None, notes: str | None, stats: _Stats
) -> tuple[str, str | None, str | None]:
    """Fix lines whose ingredient name sits in the unit field ("2 | scallions | ''", "1 | red | onion")."""
    if unit is None or not unit.strip():
        return name, None, notes
    spec = parse_unit(unit)
    if spec.canonical is not None and name and unit not in _NAME_PREFIX_UNITS and not spec.implied_item:
        return name, unit, notes  # the common case
    u = unit.strip()
    lu = fold(u)
    n = name.strip()
    ln = fold(n)
    if spec.implied_item and (not n or ln in _PREP_NAMES or ln.startswith("for ")):
        # "2 | eggs | beaten", "1 | egg yolk | for glaze", "1 | egg | ''": the unit names the item
        stats.fixed[
            "recipe line: the unit names the item (eggs), the name only its preparation → swapped"
        ] += 1
        return u, "whole", "; ".join(x for x in (n or None, notes) if x) or None
    if lu in _NAME_PREFIX_UNITS and ln == _NAME_PREFIX_UNITS[lu]:
        stats.fixed["recipe line: first word of the name in the unit field (star anise, bouquet garni)"] += 1
        return f"{u} {n}", "whole", notes
    if spec.canonical is not None:
        return n, u, notes
    if lu in _ADJECTIVE_UNITS:
        fixed = f"{u} {n}".strip(), "whole", notes
    elif not n or ln in _PREP_NAMES or ln.startswith("for "):
        fixed = u, "whole", "; ".join(x for x in (n or None, notes) if x) or None
    elif ln == lu or lu in ln:
        fixed = n, "whole", notes
    elif ln in _MODIFIER_NAMES:
        fixed = f"{n} {u}", "whole", notes
    elif ln == "juice":
        fixed = f"{u} juice", "whole", notes
    elif lu in _MODIFIER_UNITS:
        fixed = f"{u} {n}", "whole", notes
    else:
        return name, unit, notes  # not a recognisable name part ("types", "batch"): stays an unknown unit
    stats.fixed["recipe line: ingredient name found in the unit field → moved"] += 1
    return fixed


def _lines(raw: Any, stats: _Stats) -> tuple[IngredientLine, ...]:
    if type(raw) is not list:
        return ()
    out: list[IngredientLine] = []
    for item in raw:
        if type(item) is not dict:
            stats.fixed["recipe line: not an object → dropped"] += 1
            continue
        name = item.get("name")
        name = name.strip() if type(name) is str else ""
        unit = item.get("unit")
        if type(unit) is not str:
            unit = None
        notes = item.get("notes")
        notes = (notes.strip() or None) if type(notes) is str else None
        name, unit, notes = _repair_line(name, unit, notes, stats)
        if not name:
            stats.fixed["recipe line: no name at all → dropped"] += 1
            continue
        raw_amount = item.get("amount")
        amount = _num(raw_amount)
        if raw_amount is not None and (amount is None or amount < 0):
            stats.fixed["recipe line: invalid amount → treated as missing"] += 1
            amount = None
        opt = item.get("optional")
        optional = bool(opt)
        if type(opt) is str and opt.strip():
            notes = "; ".join(x for x in (notes, opt.strip()) if x)
            stats.fixed["recipe line: 'optional' given as text → true, text moved to notes"] += 1
        out.append(IngredientLine(name, amount, (unit.strip() or None) if unit else None, notes, optional))
    return tuple(out)


def _recipe_nutrition(raw: Any) -> RecipeNutrition | None:
    if not isinstance(raw, Mapping):
        return None
    return RecipeNutrition(
        calories=_nonneg(raw.get("calories")),
        protein_g=_nonneg(raw.get("proteinG")),
        carbs_g=_nonneg(raw.get("carbsG")),
        fat_g=_nonneg(raw.get("fatG")),
        fiber_g=_nonneg(raw.get("fiberG")),
        sodium_mg=_nonneg(raw.get("sodiumMg")),
        sugar_g=_nonneg(raw.get("sugarG")),
        vitamins=_strs(raw.get("vitamins")),
        minerals=_strs(raw.get("minerals")),
    )


def _parse_recipe(rec: Any, stats: _Stats, cuisine_names: Mapping[str, str]) -> Recipe | None:
    if not isinstance(rec, Mapping):
        stats.reject("recipe", "not an object", rec)
        return None
    rid = _str(rec.get("id"))
    name = _str(rec.get("name"))
    if rid is None or name is None:
        stats.reject("recipe", "missing id or name", rid or name)
        return None
    elements = _elements(rec.get("elementalProperties"), stats, "recipe")
    if isinstance(elements, str):
        stats.reject("recipe", elements, rid)
        return None
    details = _obj(rec.get("details"))
    lines = _lines(rec.get("ingredients"), stats)
    if not lines:
        stats.reject("recipe", "no ingredient lines", rid)
        return None
    # cuisine
    c_raw = _str(rec.get("cuisine")) or _str(details.get("cuisine")) or "unknown"
    c_slug = cuisine_slug(c_raw)
    detail = _str(details.get("cuisine"))
    cuisine = CuisineRef(c_slug, cuisine_names.get(c_slug, c_raw.title()), detail)
    # meal types / courses / diets / tags
    meals: list[str] = []
    courses: list[str] = []
    diets: list[str] = []
    tags: list[str] = []
    classifications = _obj(rec.get("classifications"))
    buckets = {"meal": meals, "course": courses, "diet": diets, "tag": tags}
    mixed = False
    for label in _strs(classifications.get("mealType")):
        kind_value = classify_meal_label(label)
        if kind_value is None:
            continue
        kind, value = kind_value
        if kind != "meal":
            mixed = True
        if value not in buckets[kind]:
            buckets[kind].append(value)
    if mixed:
        stats.fixed["recipe: mealType mixes diets/courses/occasions → split into fields"] += 1
    if not meals:
        for label in _strs(rec.get("mealType")):
            kv = classify_meal_label(label)
            if kv and kv[0] == "meal" and kv[1] not in meals:
                meals.append(kv[1])
        if meals:
            stats.fixed["recipe: no meal type in classifications → top-level (id slot) mealType used"] += 1
    # seasons from details.season (the top-level `season` is an artefact of the id)
    seasons, ignored = canonical_season_tokens(_strs(details.get("season")))
    for label in ignored:
        value = fold(label).strip()
        if value and value not in tags:
            tags.append(value)
        stats.fixed["recipe: non-season word in details.season → moved to tags"] += 1
    top_season = canonical_season_tokens(_strs(rec.get("season")))[0]
    if top_season and top_season != seasons:
        stats.fixed["recipe: top-level season contradicts details.season → ignored"] += 1
    # times, servings, spice
    prep = _minutes(details.get("prepTimeMinutes"))
    cook = _minutes(details.get("cookTimeMinutes"))
    total = prep + cook if prep is not None and cook is not None else None
    servings_f = _num(details.get("baseServingSize"))
    servings = int(servings_f) if servings_f is not None and servings_f > 0 else None
    if rec.get("servingSize") is not None and rec.get("servingSize") != servings:
        stats.fixed["recipe: top-level servingSize placeholder (4) ignored for details.baseServingSize"] += 1
    level, scale = spice_level(details.get("spiceLevel"))
    if details.get("spiceLevel") is not None and level is None:
        stats.dropped[f"recipe: unknown spice level {details.get('spiceLevel')!r}"] += 1
    # astrology
    astro = _obj(rec.get("astrologicalAffinities"))
    planets: list[str] = []
    for p in _strs(astro.get("planets")):
        cp = canonical_planet(p)
        if cp is None:
            stats.dropped[f"recipe: planet that is not a real body {p!r}"] += 1
        elif cp not in planets:
            planets.append(cp)
    signs: list[str] = []
    for s in _strs(astro.get("signs")):
        cs = canonical_sign(s)
        if cs is None:
            stats.dropped[f"recipe: sign that is not a sign {s!r}"] += 1
            continue
        if cs != s:
            stats.fixed["recipe: sign name lowercased"] += 1
        if cs not in signs:
            signs.append(cs)
    phases: list[str] = []
    for ph in _strs(astro.get("lunarPhases")):
        cph = canonical_lunar_phase(ph)
        if cph is None:
            stats.dropped[f"recipe: ambiguous lunar phase dropped {ph!r}"] += 1
            continue
        if cph != fold(ph).strip():
            stats.fixed[
                "recipe: lunar phase renamed to its canonical name (third quarter → last quarter…)"
            ] += 1
        if cph not in phases:
            phases.append(cph)
    # substitutions
    subs: list[Substitution] = []
    for s in rec.get("substitutions") or []:
        if isinstance(s, Mapping) and _str(s.get("originalIngredient")):
            subs.append(Substitution(str(s["originalIngredient"]).strip(), _strs(s.get("substituteOptions"))))
    # audit-only stored values (never served)
    audit: dict[str, Any] = {
        k: rec[k]
        for k in ("alchemicalProperties", "thermodynamicProperties", "monicaScore", "monicaScoreLabel")
        if k in rec
    }
    audit.update({f"top_level_{k}": rec[k] for k in ("season", "mealType", "servingSize") if k in rec})
    esms = rec.get("alchemicalProperties")
    if isinstance(esms, Mapping) and any((_num(v) or 0) > 10 for v in esms.values()):
        stats.fixed["recipe: stored ESMS on a 0–180 scale (not served; recomputed from the sky)"] += 1
    if audit:
        stats.fixed["recipe: stored ESMS/thermodynamics/monicaScore kept for audit only, never served"] += 1
    return Recipe(
        id=rid,
        name=name,
        description=_str(rec.get("description")),
        cuisine=cuisine,
        meal_types=tuple(meals),
        courses=tuple(courses),
        claimed_diets=tuple(diets),
        tags=tuple(tags),
        seasons=seasons,
        prep_minutes=prep,
        cook_minutes=cook,
        total_minutes=total,
        servings=servings,
        spice_level=level,
        spice_scale=scale,
        ingredients=lines,
        instructions=_strs(rec.get("instructions"), dedupe=False),
        cooking_methods=_methods(_strs(classifications.get("cookingMethods"))),
        elements=elements,
        astrology=AstroAffinities(tuple(planets), tuple(signs), tuple(phases)),
        nutrition=_recipe_nutrition(rec.get("nutritionPerServing")),
        substitutions=tuple(subs),
        raw_audit=MappingProxyType(audit) if audit else EMPTY_MAPPING,
    )


# --- sauces & cuisines --------------------------------------------------------------------------


def _parse_sauce(key: str, rec: Any, stats: _Stats, kind: str = "sauce") -> Sauce | None:
    if not isinstance(rec, Mapping):
        stats.reject(kind, "not an object", key)
        return None
    name = _str(rec.get("name"))
    if name is None:
        stats.reject(kind, "missing name", key)
        return None
    elements = _elements(rec.get("elementalProperties"), stats, kind)
    if isinstance(elements, str):
        stats.reject(kind, elements, key)
        return None
    planets, signs = _planets_and_signs(_strs(rec.get("astrologicalInfluences")), stats, kind)
    seasonality = rec.get("seasonality")
    season_values = (
        re.split(r"[,/]| and ", seasonality) if isinstance(seasonality, str) else _strs(seasonality)
    )
    seasons, _ignored = canonical_season_tokens(season_values)
    c_raw = _str(rec.get("cuisine"))
    audit = {k: rec[k] for k in ("alchemicalProperties", "thermodynamicProperties") if k in rec}
    return Sauce(
        slug=slugify(key) or slugify(name),
        name=name,
        description=_str(rec.get("description")),
        base=_str(rec.get("base")),
        cuisine=CuisineRef(cuisine_slug(c_raw), c_raw) if c_raw else None,
        key_ingredients=_strs(rec.get("keyIngredients")),
        ingredients=_strs(rec.get("ingredients"), dedupe=False),
        culinary_uses=_strs(rec.get("culinaryUses")),
        variants=_strs(rec.get("variants")),
        elements=elements,
        planets=planets,
        signs=signs,
        seasons=seasons,
        preparation_steps=_strs(rec.get("preparationSteps"), dedupe=False),
        prep_minutes=_minutes(rec.get("prepTime")),
        cook_minutes=_minutes(rec.get("cookTime")),
        difficulty=_str(rec.get("difficulty")),
        yield_text=_str(rec.get("yield")),
        raw_audit=MappingProxyType(audit) if audit else EMPTY_MAPPING,
    )


def _parse_cuisine(key: str, rec: Any, stats: _Stats) -> Cuisine | None:
    if not isinstance(rec, Mapping):
        stats.reject("cuisine", "not an object", key)
        return None
    name = _str(rec.get("name")) or key
    elements = _elements(rec.get("elementalProperties"), stats, "cuisine")
    if isinstance(elements, str):
        stats.reject("cuisine", elements, key)
        return None
    techniques: list[CookingTechnique] = []
    for t in rec.get("cookingTechniques") or []:
        if isinstance(t, str) and t.strip():
            techniques.append(CookingTechnique(t.strip(), None, None, normalize_method(t)))
        elif isinstance(t, Mapping) and _str(t.get("name")):
            tname = str(t["name"]).strip()
            techniques.append(
                CookingTechnique(
                    tname,
                    _str(t.get("description")),
                    _optional_elements(t.get("elementalProperties")),
                    normalize_method(tname.lower().replace(" cooking", "")),
                )
            )
    sauces: list[Sauce] = []
    trad = rec.get("traditionalSauces")
    if isinstance(trad, Mapping):
        for skey, srec in trad.items():
            stats.read["cuisine sauces"] += 1
            sauce = _parse_sauce(str(skey), srec, stats, "cuisine sauce")
            if sauce is not None:
                sauces.append(sauce)
                stats.loaded["cuisine sauces"] += 1
    regional: list[RegionalCuisine] = []
    reg = rec.get("regionalCuisines")
    if isinstance(reg, Mapping):
        for rkey, rrec in reg.items():
            if isinstance(rrec, Mapping):
                regional.append(
                    RegionalCuisine(
                        slug=slugify(str(rkey)),
                        name=_str(rrec.get("name")) or str(rkey),
                        description=_str(rrec.get("description")),
                        signature=_strs(rrec.get("signature")),
                        elements=_optional_elements(rrec.get("elementalProperties")),
                    )
                )
    dish_names: dict[str, tuple[str, ...]] = {}
    dishes = rec.get("dishes")
    if isinstance(dishes, Mapping):
        for meal, by_season in dishes.items():
            names: list[str] = []
            if isinstance(by_season, Mapping):
                for lst in by_season.values():
                    for d in lst if isinstance(lst, list) else []:
                        dn = _str(d.get("name")) if isinstance(d, Mapping) else _str(d)
                        if dn and dn not in names:
                            names.append(dn)
            if names:
                dish_names[str(meal)] = tuple(names)
    planets, signs = _planets_and_signs(_strs(rec.get("astrologicalInfluences")), stats, "cuisine")
    return Cuisine(
        slug=cuisine_slug(_str(rec.get("id")) or key),
        name=name,
        description=_str(rec.get("description")),
        elements=elements,
        techniques=tuple(techniques),
        sauces=tuple(sauces),
        regional_cuisines=tuple(regional),
        planets=planets,
        signs=signs,
        dish_names=MappingProxyType(dish_names),
        is_stub=not dish_names,
    )


# --- entry points -------------------------------------------------------------------------------


def _read(path: Path, required: bool = True) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except FileNotFoundError:
        if required:
            raise CatalogLoadError(f"catalog data file missing: {path}") from None
        return None
    except orjson.JSONDecodeError as exc:
        raise CatalogLoadError(f"catalog data file is not valid JSON: {path}: {exc}") from exc


def load_catalog(data_dir: Path | None = None) -> Catalog:
    """Read, validate and repair the data set. Raises :class:`CatalogLoadError` if a file is unusable."""
    started = time.perf_counter()
    data_dir = Path(data_dir) if data_dir is not None else DATA_DIR
    stats = _Stats()
    rules = diet_rules()

    ingredients, aliases = _load_ingredients(
        _read(data_dir / INGREDIENTS_FILE), _read(data_dir / SUPPLEMENTAL_FILE, required=False), stats, rules
    )

    # cuisines first (their display names are used for recipe cuisine refs)
    cuisines: dict[str, Cuisine] = {}
    raw_cuisines = _read(data_dir / CUISINES_FILE)
    if not isinstance(raw_cuisines, Mapping):
        raise CatalogLoadError(f"{CUISINES_FILE}: expected an object")
    for key, rec in raw_cuisines.items():
        stats.read["cuisines"] += 1
        cuisine = _parse_cuisine(str(key), rec, stats)
        if cuisine is not None:
            cuisines[cuisine.slug] = cuisine
    for fname in FULL_CUISINE_FILES:
        rec = _read(data_dir / fname, required=False)
        if rec is None:
            continue
        stats.read["full cuisine files"] += 1
        cuisine = _parse_cuisine(str(rec.get("id") if isinstance(rec, Mapping) else fname), rec, stats)
        if cuisine is not None:
            if cuisine.slug in cuisines:
                stats.fixed["cuisine: stub replaced by its full cuisine file"] += 1
            cuisines[cuisine.slug] = cuisine
    stats.loaded["cuisines"] = len(cuisines)
    cuisine_names = {slug: c.name for slug, c in cuisines.items()}

    recipes: dict[str, Recipe] = {}
    raw_recipes = _read(data_dir / RECIPES_FILE)
    if not isinstance(raw_recipes, list):
        raise CatalogLoadError(f"{RECIPES_FILE}: expected a list")
    for rec in raw_recipes:
        stats.read["recipes"] += 1
        recipe = _parse_recipe(rec, stats, cuisine_names)
        if recipe is None:
            continue
        if recipe.id in recipes:
            stats.reject("recipe", "duplicate id", recipe.id)
            continue
        recipes[recipe.id] = recipe
    stats.loaded["recipes"] = len(recipes)

    sauces: dict[str, Sauce] = {}
    raw_sauces = _read(data_dir / SAUCES_FILE)
    if not isinstance(raw_sauces, Mapping):
        raise CatalogLoadError(f"{SAUCES_FILE}: expected an object keyed by sauce id")
    for key, rec in raw_sauces.items():
        stats.read["sauces"] += 1
        sauce = _parse_sauce(str(key), rec, stats)
        if sauce is not None:
            sauces[sauce.slug] = sauce
    stats.loaded["sauces"] = len(sauces)

    elapsed = (time.perf_counter() - started) * 1000.0
    report = LoadReport(
        read=MappingProxyType(dict(stats.read)),
        loaded=MappingProxyType(dict(stats.loaded)),
        fixed=MappingProxyType(dict(sorted(stats.fixed.items()))),
        rejected=MappingProxyType(dict(sorted(stats.rejected.items()))),
        dropped_values=MappingProxyType(dict(sorted(stats.dropped.items()))),
        elapsed_ms=elapsed,
    )
    logger.info(
        "catalog loaded: %d ingredients (+%d supplemental), %d recipes, %d sauces, %d cuisines; "
        "%d fixes, %d rejected, %d values dropped; %.0f ms",
        stats.loaded["ingredients"],
        stats.loaded["supplemental ingredients"],
        stats.loaded["recipes"],
        stats.loaded["sauces"],
        stats.loaded["cuisines"],
        sum(stats.fixed.values()),
        sum(stats.rejected.values()),
        sum(stats.dropped.values()),
        elapsed,
    )
    return Catalog(
        ingredients=MappingProxyType(ingredients),
        aliases=MappingProxyType(aliases),
        recipes=MappingProxyType(recipes),
        sauces=MappingProxyType(sauces),
        cuisines=MappingProxyType(cuisines),
        report=report,
    )


@lru_cache(maxsize=1)
def get_catalog() -> Catalog:
    """The shipped data set, loaded once per process."""
    return load_catalog()
