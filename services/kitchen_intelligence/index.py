"""The catalog, precomputed once at start-up for fast scoring (pure: no I/O beyond the catalog load).

For every recipe, everything that does not depend on the sky is computed here: each ingredient line resolved
(``IngredientResolver``), converted to grams (``shared.catalog.units.to_grams``), scaled and summed into the
raw elements ``Σ f(q)·E`` (via :func:`shared.alchemy.recipe_elements_detail`, so the numbers are the
engine's), the canonical cooking methods and their multipliers, the diet report
(``shared.catalog.diet.recipe_diets``), the ruling planet and the method affinity, the difficulty, and the
words used by the filters. Scoring a recipe against a sky is then a few dozen float operations
(:meth:`RecipeEntry.final_elements` + a cosine).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from shared.alchemy import CLASSICAL_PLANETS, COOKING_METHOD_MODIFIERS, ELEMENTS, recipe_elements_detail
from shared.catalog.diet import DietReport, recipe_diets
from shared.catalog.models import Catalog, Ingredient, Recipe
from shared.catalog.resolver import IngredientResolver
from shared.catalog.text import fold, normalize_text, singular_tokens, tokens
from shared.catalog.units import to_grams

from .filters import DIETS, DIFFICULTY_LABELS, difficulty
from .scoring import RulingPlanet, method_affinity, method_keys, ruling_planet

log = logging.getLogger("kitchen.index")

__all__ = ["IngredientEntry", "KitchenIndex", "LineInfo", "RecipeEntry", "build_index"]

_ZERO_SKY = MappingProxyType(dict.fromkeys(ELEMENTS, 0.0))


def _words(text: str) -> tuple[str, ...]:
    return singular_tokens(tokens(normalize_text(fold(text))))


@dataclass(frozen=True, slots=True)
class LineInfo:
    name: str
    amount: float | None
    unit: str | None
    slug: str | None
    matched_by: str | None
    grams: float | None
    unit_known: bool
    non_food: bool
    optional: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "amount": self.amount,
            "unit": self.unit,
            "slug": self.slug,
            "matchedBy": self.matched_by,
            "grams": None if self.grams is None else round(self.grams, 3),
            "unitKnown": self.unit_known,
            "nonFood": self.non_food,
            "optional": self.optional,
        }


@dataclass(frozen=True, slots=True)
class RecipeEntry:
    """One recipe with everything sky-independent precomputed."""

    recipe: Recipe
    id: str
    name: str
    cuisine_slug: str
    cuisine_name: str
    meal_set: frozenset[str]
    seasons: frozenset[str]
    prep: int | None
    cook: int | None
    total: int | None
    difficulty: int
    diet: DietReport
    diets_ok: frozenset[str]
    diets_unknown: tuple[str, ...]
    diet_notes: tuple[str, ...]
    lines: tuple[LineInfo, ...]
    slugs: frozenset[str]
    line_words: tuple[tuple[str, ...], ...]
    search_text: str
    name_key: str  # case/accent-folded name: the catalog order
    name_text: str  # " word word " (singular) of the name, for ranking text matches
    pipeline: tuple[tuple[float, Mapping[str, float]], ...]  # (grams, elements) of the resolved lines
    raw: tuple[float, float, float, float]
    r7: tuple[float, float, float, float]  # 0.7·raw, exactly as the pipeline computes it
    mods: tuple[tuple[float, float, float, float], ...]  # method multipliers in recipe order
    methods: tuple[str, ...]  # canonical methods applied
    unknown_methods: tuple[str, ...]
    favourable: tuple[str, ...]  # favourable classical planets, data order
    ruling: RulingPlanet
    method_affinity: float
    affinity_methods: tuple[str, ...]
    dish_kind: str
    resolved_lines: int
    food_lines: int

    def final_elements(self, s3: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        """The pipeline's final elements for a sky whose 0.3-share is ``s3`` (= 0.3·sky per element):
        ``(0.7·raw + 0.3·sky) × m1 × m2 …`` in the recipe's method order, bit-identical to
        :func:`shared.alchemy.recipe_elements`."""
        r7 = self.r7
        f = r7[0] + s3[0]
        w = r7[1] + s3[1]
        e = r7[2] + s3[2]
        a = r7[3] + s3[3]
        for m in self.mods:
            f = f * m[0]
            w = w * m[1]
            e = e * m[2]
            a = a * m[3]
        return (f, w, e, a)

    @property
    def difficulty_label(self) -> str:
        return DIFFICULTY_LABELS[self.difficulty]


@dataclass(frozen=True, slots=True)
class IngredientEntry:
    ingredient: Ingredient
    slug: str
    name: str
    category: str
    elements: tuple[float, float, float, float]
    dominant: str
    rulers: tuple[str, ...]  # classical ruling planets
    seasons: frozenset[str]
    words: tuple[str, ...]
    search_text: str
    recipe_count: int


@dataclass(frozen=True, slots=True)
class ResolutionStats:
    lines: int
    food_lines: int
    resolved: int
    non_food: int
    unresolved_names: int
    unknown_units: int

    @property
    def share(self) -> float:
        return self.resolved / self.food_lines if self.food_lines else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "foodLines": self.food_lines,
            "resolved": self.resolved,
            "nonFood": self.non_food,
            "resolvedShare": round(self.share, 4),
            "distinctUnresolvedNames": self.unresolved_names,
            "unknownUnits": self.unknown_units,
        }


@dataclass(frozen=True, slots=True)
class KitchenIndex:
    catalog: Catalog
    resolver: IngredientResolver
    recipes: tuple[RecipeEntry, ...]  # sorted by id
    by_name: tuple[RecipeEntry, ...]  # the catalog order: folded name, then id
    by_id: Mapping[str, RecipeEntry]
    ingredients: tuple[IngredientEntry, ...]  # sorted by slug
    ingredient_by_slug: Mapping[str, IngredientEntry]
    cuisine_counts: Mapping[str, int]
    stats: ResolutionStats
    build_ms: float
    # Columns of ``recipes`` for the scoring loop (same order): ids, ruling planet index in
    # CLASSICAL_PLANETS, id of the favourable-planet combination in ``fav_combos``, method affinity.
    ids: tuple[str, ...] = ()
    ruling_index: tuple[int, ...] = ()
    fav_ids: tuple[int, ...] = ()
    fav_combos: tuple[tuple[str, ...], ...] = ()
    affinities: tuple[float, ...] = ()
    #: cuisine slug → indices into ``recipes``, ascending
    cuisine_positions: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def cuisine_slugs(self) -> tuple[str, ...]:
        return tuple(self.catalog.cuisines)

    def ingredient(self, text: str) -> Ingredient | None:
        """A catalog ingredient by slug, alias or name (exact, alias, synonym or plural resolution only)."""
        found = self.catalog.ingredient(text)
        if found is None:
            found = self.catalog.ingredient(text.strip().lower().replace(" ", "-"))
        if found is None:
            found = self.catalog.ingredient(text.strip().lower().replace(" ", "_"))
        if found is None:
            res = self.resolver.resolve(text)
            if res.ingredient is not None and res.matched_by in {"exact", "alias", "synonym", "plural"}:
                found = res.ingredient
        return found


def _dish_kind(recipe: Recipe) -> str:
    labels = set(recipe.meal_types) | set(recipe.courses)
    for kind in ("dessert", "soup", "salad", "stew", "breakfast", "snack", "appetizer", "beverage"):
        if kind in labels:
            return kind
    return "dish"


def _diet_notes(report: DietReport) -> tuple[tuple[str, ...], tuple[str, ...]]:
    unknown = tuple(d for d in DIETS if report.verdicts[d].satisfied is None)
    notes: list[str] = []
    if report.unresolved:
        names = ", ".join(report.unresolved[:5]) + (" …" if len(report.unresolved) > 5 else "")
        count = len(report.unresolved)
        line = f"{count} ingredient line{'s' if count != 1 else ''} not in the catalog ({names})"
        if unknown:
            line += (
                f": not claimed {', '.join(unknown)} because {'they' if count != 1 else 'it'} might break it"
            )
        notes.append(line)
    return unknown, tuple(notes)


def _build_recipe(recipe: Recipe, resolver: IngredientResolver) -> tuple[RecipeEntry, list[str], int]:
    infos: list[LineInfo] = []
    pipeline: list[tuple[float, Mapping[str, float]]] = []
    unknown_units = 0
    unresolved: list[str] = []
    for line in recipe.ingredients:
        res = resolver.resolve(line.name)
        ing = res.ingredient
        grams: float | None = None
        known = True
        if ing is not None:
            g = to_grams(line.amount, line.unit, ing, name=line.name)
            grams = g.grams
            known = g.known
            if line.unit and not g.known:
                unknown_units += 1
            pipeline.append((g.grams, ing.elements.as_dict()))
        elif not res.non_food:
            unresolved.append(line.name)
        infos.append(
            LineInfo(
                name=line.name,
                amount=line.amount,
                unit=line.unit,
                slug=ing.slug if ing is not None else None,
                matched_by=res.matched_by,
                grams=grams,
                unit_known=known,
                non_food=res.non_food,
                optional=line.optional,
            )
        )
    methods = recipe.canonical_methods
    detail = recipe_elements_detail(pipeline, _ZERO_SKY, methods)
    raw = tuple(detail.raw[el] for el in ELEMENTS)
    r7 = tuple(0.7 * v for v in raw)
    mods = tuple(tuple(COOKING_METHOD_MODIFIERS[m][el] for el in ELEMENTS) for m in detail.applied_methods)
    report = recipe_diets(recipe, resolver)
    unknown, notes = _diet_notes(report)
    favourable = tuple(p for p in recipe.astrology.planets if p in CLASSICAL_PLANETS)
    name_word_list = _words(recipe.name)
    name_words = frozenset(name_word_list)
    labels = frozenset(
        {*recipe.tags, *recipe.courses, *recipe.meal_types, *methods}
        | ({recipe.spice_level} if recipe.spice_level else set())
    )
    ruling = ruling_planet(recipe.astrology.planets, name_words, labels, recipe.elements.as_dict())
    keys = method_keys((m.raw for m in recipe.cooking_methods), methods)
    affinity, used = method_affinity(keys, ruling.planet)
    line_words = tuple(_words(line.name) for line in recipe.ingredients)
    search = " ".join(
        [
            normalize_text(fold(recipe.name)),
            normalize_text(fold(recipe.cuisine.name)),
            normalize_text(fold(recipe.cuisine.detail or "")),
            *(" ".join(w) for w in line_words),
            *(normalize_text(fold(t)) for t in (*recipe.tags, *recipe.courses, *recipe.meal_types)),
        ]
    )
    search_text = " " + " ".join(singular_tokens(tokens(search))) + " "
    food = [i for i in infos if not i.non_food]
    entry = RecipeEntry(
        recipe=recipe,
        id=recipe.id,
        name=recipe.name,
        cuisine_slug=recipe.cuisine.slug,
        cuisine_name=recipe.cuisine.name,
        meal_set=frozenset((*recipe.meal_types, *recipe.courses)),
        seasons=frozenset(recipe.seasons),
        prep=recipe.prep_minutes,
        cook=recipe.cook_minutes,
        total=recipe.total_minutes,
        difficulty=difficulty(
            recipe.total_minutes, len(recipe.ingredients), len(recipe.instructions), methods
        ),
        diet=report,
        diets_ok=frozenset(report.tags),
        diets_unknown=unknown,
        diet_notes=notes,
        lines=tuple(infos),
        slugs=frozenset(i.slug for i in infos if i.slug is not None),
        line_words=line_words,
        search_text=search_text,
        name_key=fold(recipe.name),
        name_text=" " + " ".join(name_word_list) + " ",
        pipeline=tuple(pipeline),
        raw=raw,  # type: ignore[arg-type]
        r7=r7,  # type: ignore[arg-type]
        mods=mods,  # type: ignore[arg-type]
        methods=detail.applied_methods,
        unknown_methods=tuple(m.raw for m in recipe.cooking_methods if m.canonical is None),
        favourable=favourable,
        ruling=ruling,
        method_affinity=affinity,
        affinity_methods=used,
        dish_kind=_dish_kind(recipe),
        resolved_lines=sum(1 for i in food if i.slug is not None),
        food_lines=len(food),
    )
    return entry, unresolved, unknown_units


def _build_ingredient(ing: Ingredient, recipe_count: int) -> IngredientEntry:
    elements = tuple(ing.elements)
    words = _words(ing.name)
    text = " ".join(
        [
            normalize_text(fold(ing.name)),
            ing.slug.replace("-", " ").replace("_", " "),
            ing.category,
            *(normalize_text(fold(a)) for a in ing.aliases),
        ]
    )
    return IngredientEntry(
        ingredient=ing,
        slug=ing.slug,
        name=ing.name,
        category=ing.category,
        elements=elements,  # type: ignore[arg-type]
        dominant=ing.elements.dominant,
        rulers=tuple(p for p in ing.ruling_planets if p in CLASSICAL_PLANETS),
        seasons=frozenset(ing.seasons),
        words=words,
        search_text=" " + " ".join(singular_tokens(tokens(text))) + " ",
        recipe_count=recipe_count,
    )


def build_index(catalog: Catalog, resolver: IngredientResolver | None = None) -> KitchenIndex:
    """Precompute every recipe and ingredient (≈ 1–2 s; run it off the event loop)."""
    started = time.perf_counter()
    resolver = resolver or IngredientResolver(catalog)
    entries: list[RecipeEntry] = []
    unresolved_names: Counter[str] = Counter()
    unknown_units = 0
    for recipe in catalog.recipes.values():
        entry, unresolved, units = _build_recipe(recipe, resolver)
        entries.append(entry)
        unresolved_names.update(unresolved)
        unknown_units += units
    entries.sort(key=lambda e: e.id)
    usage: Counter[str] = Counter()
    for entry in entries:
        usage.update(entry.slugs)
    ingredients = sorted(
        (_build_ingredient(ing, usage.get(ing.slug, 0)) for ing in catalog.ingredients.values()),
        key=lambda i: i.slug,
    )
    lines = sum(len(e.lines) for e in entries)
    food = sum(e.food_lines for e in entries)
    resolved = sum(e.resolved_lines for e in entries)
    stats = ResolutionStats(
        lines=lines,
        food_lines=food,
        resolved=resolved,
        non_food=lines - food,
        unresolved_names=len(unresolved_names),
        unknown_units=unknown_units,
    )
    combos: dict[tuple[str, ...], int] = {}
    fav_ids = tuple(combos.setdefault(e.favourable, len(combos)) for e in entries)
    elapsed = (time.perf_counter() - started) * 1000.0
    log.info(
        "kitchen index: %d recipes, %d ingredients, %d/%d food lines resolved (%.1f%%), %.0f ms",
        len(entries),
        len(ingredients),
        resolved,
        food,
        100.0 * stats.share,
        elapsed,
    )
    return KitchenIndex(
        catalog=catalog,
        resolver=resolver,
        recipes=tuple(entries),
        by_name=tuple(sorted(entries, key=lambda e: (e.name_key, e.id))),
        by_id=MappingProxyType({e.id: e for e in entries}),
        ingredients=tuple(ingredients),
        ingredient_by_slug=MappingProxyType({i.slug: i for i in ingredients}),
        cuisine_counts=MappingProxyType(dict(Counter(e.cuisine_slug for e in entries))),
        stats=stats,
        build_ms=elapsed,
        ids=tuple(e.id for e in entries),
        ruling_index=tuple(CLASSICAL_PLANETS.index(e.ruling.planet) for e in entries),
        fav_ids=fav_ids,
        fav_combos=tuple(combos),
        affinities=tuple(e.method_affinity for e in entries),
        cuisine_positions=MappingProxyType(
            {
                slug: tuple(i for i, e in enumerate(entries) if e.cuisine_slug == slug)
                for slug in {e.cuisine_slug for e in entries}
            }
        ),
    )
