"""Typed, frozen models of the catalog.

Slotted frozen dataclasses (not pydantic): the loader validates every field itself and constructs ~6,000
objects, which costs a few milliseconds this way. Collections are tuples and read-only mappings, so a model
can be shared between requests and threads without copying. ``to_dict()`` gives a JSON-ready view.

Never served: the upstream recipes' stored ``alchemicalProperties`` / ``thermodynamicProperties`` /
``monicaScore`` (unreliable, must be recomputed). They are kept, for audits only, in
``Recipe.raw_audit`` / ``Sauce.raw_audit`` (excluded from ``to_dict()``, ``repr`` and equality).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from shared.catalog.vocab import ELEMENTS

__all__ = [
    "AstroAffinities",
    "Catalog",
    "CookingTechnique",
    "Cuisine",
    "CuisineRef",
    "DietFlags",
    "Elements",
    "Ingredient",
    "IngredientLine",
    "LoadReport",
    "MethodRef",
    "NutritionSummary",
    "Recipe",
    "RecipeNutrition",
    "RegionalCuisine",
    "Sauce",
    "Substitution",
    "EMPTY_MAPPING",
    "NO_FLAGS",
]

EMPTY_MAPPING: Mapping[str, Any] = MappingProxyType({})


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return value.to_dict() if hasattr(value, "to_dict") else dataclasses.asdict(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list | frozenset | set):
        return [_jsonable(v) for v in value]
    return value


class _DictMixin:
    """``to_dict()``: a JSON-ready dict of the public fields (``raw_audit`` is never included)."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            if f.name == "raw_audit":
                continue
            out[f.name] = _jsonable(getattr(self, f.name))
        return out


@dataclass(frozen=True, slots=True)
class Elements(_DictMixin):
    """Fire/Water/Earth/Air, non-negative, normalised to sum 1 (canonical order Fire, Water, Earth, Air)."""

    Fire: float
    Water: float
    Earth: float
    Air: float

    def as_dict(self) -> dict[str, float]:
        return {"Fire": self.Fire, "Water": self.Water, "Earth": self.Earth, "Air": self.Air}

    def __iter__(self) -> Iterator[float]:
        return iter((self.Fire, self.Water, self.Earth, self.Air))

    @property
    def dominant(self) -> str:
        """Largest element; exact ties broken in canonical order Fire, Water, Earth, Air."""
        values = tuple(self)
        best = max(values)
        return ELEMENTS[values.index(best)]

    @classmethod
    def from_values(cls, values: Mapping[str, float]) -> Elements:
        """Normalise non-negative finite values to sum 1. Raises ValueError otherwise (all-zero included)."""
        vals = [float(values.get(e, 0.0)) for e in ELEMENTS]
        if any(not math.isfinite(v) or v < 0 for v in vals):
            raise ValueError("elements must be finite and non-negative")
        total = math.fsum(vals)
        if total <= 0:
            raise ValueError("elements sum to zero")
        return cls(*(v / total for v in vals))


@dataclass(frozen=True, slots=True)
class DietFlags(_DictMixin):
    """Dietary facts of one ingredient (or of one recipe line's text). See ``diet_rules.json``."""

    is_meat: bool = False
    is_poultry: bool = False
    is_fish: bool = False
    is_shellfish: bool = False
    is_dairy: bool = False
    is_egg: bool = False
    is_honey: bool = False
    contains_gluten: bool = False
    is_tree_nut: bool = False
    is_peanut: bool = False
    is_animal_derived: bool = False

    @property
    def is_nut(self) -> bool:
        """Tree nut or peanut (what a nut-free diet excludes)."""
        return self.is_tree_nut or self.is_peanut

    @property
    def is_animal_flesh(self) -> bool:
        return self.is_meat or self.is_poultry or self.is_fish or self.is_shellfish

    def union(self, other: DietFlags) -> DietFlags:
        return DietFlags(
            *(getattr(self, f.name) or getattr(other, f.name) for f in dataclasses.fields(DietFlags))
        )

    def true_flags(self) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(DietFlags) if getattr(self, f.name))


NO_FLAGS = DietFlags()


@dataclass(frozen=True, slots=True)
class NutritionSummary(_DictMixin):
    """Per-serving nutrition of an ingredient, as the data states it (None = not given)."""

    serving_size: str | None
    calories: float | None
    protein_g: float | None
    carbs_g: float | None
    fat_g: float | None
    fiber_g: float | None
    sugar_g: float | None
    sodium_mg: float | None


@dataclass(frozen=True, slots=True)
class MethodRef(_DictMixin):
    """A cooking-method string as written upstream and its canonical key (None = unknown, reported)."""

    raw: str
    canonical: str | None


@dataclass(frozen=True, slots=True)
class Ingredient(_DictMixin):
    slug: str
    name: str
    category: str
    subcategory: str | None
    elements: Elements
    qualities: tuple[str, ...]
    modality: str | None
    seasons: tuple[str, ...]  # canonical, empty = not stated
    ruling_planets: tuple[str, ...]
    favorable_signs: tuple[str, ...]
    flavor: Mapping[str, float] = field(compare=False)  # sweet/salty/sour/bitter/umami/spicy, numeric only
    description: str | None
    nutrition: NutritionSummary | None
    cooking_methods: tuple[MethodRef, ...]
    cuisine_affinity: tuple[str, ...]
    diet: DietFlags
    aliases: tuple[str, ...] = ()  # old upstream keys, duplicate keys, parenthetical alternative names
    supplemental: bool = False  # True for alchm.kitchen supplemental records (not upstream data)
    source: str = "upstream"

    @property
    def canonical_methods(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.canonical for m in self.cooking_methods if m.canonical))


@dataclass(frozen=True, slots=True)
class CuisineRef(_DictMixin):
    slug: str  # "middle-eastern"
    name: str  # "Middle Eastern"
    detail: str | None = None  # the recipe's own regional label, e.g. "Chinese (Sichuan)"


@dataclass(frozen=True, slots=True)
class IngredientLine(_DictMixin):
    name: str
    amount: float | None
    unit: str | None
    notes: str | None = None
    optional: bool = False


@dataclass(frozen=True, slots=True)
class AstroAffinities(_DictMixin):
    planets: tuple[str, ...] = ()
    signs: tuple[str, ...] = ()
    lunar_phases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RecipeNutrition(_DictMixin):
    calories: float | None
    protein_g: float | None
    carbs_g: float | None
    fat_g: float | None
    fiber_g: float | None
    sodium_mg: float | None
    sugar_g: float | None
    vitamins: tuple[str, ...] = ()
    minerals: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Substitution(_DictMixin):
    original: str
    options: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Recipe(_DictMixin):
    id: str
    name: str
    description: str | None
    cuisine: CuisineRef
    meal_types: tuple[str, ...]  # real courses of a day: breakfast, lunch, dinner, dessert, snack…
    courses: tuple[str, ...]  # dish kinds mixed into upstream mealType: soup, salad, stew, street food…
    claimed_diets: tuple[str, ...]  # diets claimed upstream ("vegan"…) — NOT trusted, see diet.recipe_diets
    tags: tuple[str, ...]  # everything else upstream put in mealType (celebration, comfort food…)
    seasons: tuple[str, ...]  # from details.season, canonical; empty = not stated
    prep_minutes: int | None
    cook_minutes: int | None
    total_minutes: int | None
    servings: int | None
    spice_level: str | None  # none / mild / medium / hot / very hot
    spice_scale: int | None  # 0..4
    ingredients: tuple[IngredientLine, ...]
    instructions: tuple[str, ...]
    cooking_methods: tuple[MethodRef, ...]
    elements: Elements  # curated elements (normalised)
    astrology: AstroAffinities
    nutrition: RecipeNutrition | None
    substitutions: tuple[Substitution, ...]
    # Audit only — stored alchemicalProperties / thermodynamicProperties / monicaScore. NEVER serve.
    raw_audit: Mapping[str, Any] = field(default_factory=lambda: EMPTY_MAPPING, repr=False, compare=False)

    @property
    def canonical_methods(self) -> tuple[str, ...]:
        """Canonical method keys in recipe order, deduplicated, unknown ones left out."""
        return tuple(dict.fromkeys(m.canonical for m in self.cooking_methods if m.canonical))


@dataclass(frozen=True, slots=True)
class Sauce(_DictMixin):
    slug: str
    name: str
    description: str | None
    base: str | None
    cuisine: CuisineRef | None
    key_ingredients: tuple[str, ...]
    ingredients: tuple[str, ...]  # free-text lines ("1/4 cup extra virgin olive oil")
    culinary_uses: tuple[str, ...]
    variants: tuple[str, ...]
    elements: Elements
    planets: tuple[str, ...]
    signs: tuple[str, ...]
    seasons: tuple[str, ...]
    preparation_steps: tuple[str, ...]
    prep_minutes: int | None
    cook_minutes: int | None
    difficulty: str | None
    yield_text: str | None
    raw_audit: Mapping[str, Any] = field(default_factory=lambda: EMPTY_MAPPING, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class CookingTechnique(_DictMixin):
    name: str
    description: str | None
    elements: Elements | None
    canonical_method: str | None


@dataclass(frozen=True, slots=True)
class RegionalCuisine(_DictMixin):
    slug: str
    name: str
    description: str | None
    signature: tuple[str, ...]
    elements: Elements | None


@dataclass(frozen=True, slots=True)
class Cuisine(_DictMixin):
    slug: str
    name: str
    description: str | None
    elements: Elements
    techniques: tuple[CookingTechnique, ...]
    sauces: tuple[Sauce, ...]
    regional_cuisines: tuple[RegionalCuisine, ...]
    planets: tuple[str, ...]
    signs: tuple[str, ...]
    dish_names: Mapping[str, tuple[str, ...]] = field(compare=False)  # meal type -> distinct dish names
    is_stub: bool  # True when upstream ships no dishes for it


@dataclass(frozen=True, slots=True, eq=False)
class LoadReport(_DictMixin):
    """What the loader did: records read / loaded, fixes applied and rejections, by reason."""

    read: Mapping[str, int]
    loaded: Mapping[str, int]
    fixed: Mapping[str, int]
    rejected: Mapping[str, int]
    dropped_values: Mapping[str, int]  # e.g. {"ingredient ruling planet 'Earth'": 2}
    elapsed_ms: float

    def summary_lines(self) -> list[str]:
        lines = ["loaded: " + ", ".join(f"{k} {v}/{self.read.get(k, v)}" for k, v in self.loaded.items())]
        for title, data in (
            ("fixed", self.fixed),
            ("rejected", self.rejected),
            ("dropped", self.dropped_values),
        ):
            if data:
                lines.append(f"{title}:")
                lines.extend(
                    f"  {v:5d}  {k}" for k, v in sorted(data.items(), key=lambda kv: (-kv[1], kv[0]))
                )
        lines.append(f"load time: {self.elapsed_ms:.0f} ms")
        return lines


@dataclass(frozen=True, slots=True, eq=False)
class Catalog:
    """The whole validated data set. Mappings are read-only; recipe order is the upstream file order."""

    ingredients: Mapping[str, Ingredient]  # by canonical slug
    aliases: Mapping[str, str]  # alias (old key / duplicate key / alternative name slug) -> canonical slug
    recipes: Mapping[str, Recipe]  # by id, upstream order
    sauces: Mapping[str, Sauce]
    cuisines: Mapping[str, Cuisine]  # by slug
    report: LoadReport

    def ingredient(self, slug_or_alias: str) -> Ingredient | None:
        found = self.ingredients.get(slug_or_alias)
        if found is not None:
            return found
        canonical = self.aliases.get(slug_or_alias)
        return self.ingredients.get(canonical) if canonical else None

    def recipe_list(self) -> tuple[Recipe, ...]:
        return tuple(self.recipes.values())
