"""Filters of recipe searches and recommendations, and the normalisers of their request values.

Every filter is a hard constraint, obeyed by every returned recipe:

* ``cuisines`` — the recipe's cuisine slug is one of them;
* ``diets`` — the recipe's derived diet verdict (``shared.catalog.diet.recipe_diets``) is ``True`` for every
  one of them; ``None`` (unresolved lines that might break it) does not pass;
* ``meal_types`` — the recipe lists one of them as a meal type or a course;
* ``seasons`` — the recipe's stated seasons contain one of them (a recipe that states no season does not
  pass: it cannot be claimed to be in season);
* ``max_prep_time`` / ``max_total_time`` — minutes (a recipe without the figure does not pass);
* ``max_difficulty`` — our derived 1–5 difficulty (:func:`difficulty`);
* ``exclude`` — no ingredient line resolves to an excluded ingredient, and no line's words contain an
  excluded name (so "no peanuts" also removes a line the catalog does not know, like "roasted peanuts");
* ``q`` — every word of the query starts a word of the recipe's search text (name, cuisine, ingredient lines,
  tags, courses, meal types), singular forms, accents and case folded.

Unknown values of a controlled vocabulary (a diet, cuisine, meal type, season) are refused with a 422 naming
the field, never ignored: silently dropping "gluten free" would serve a coeliac a wheat dish.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from shared.catalog.text import fold, normalize_text, singular_tokens, tokens
from shared.catalog.vocab import COURSES, MEAL_TYPES, SEASONS, cuisine_slug
from shared.errors import InvalidInput

if TYPE_CHECKING:
    from services.kitchen_intelligence.index import RecipeEntry

__all__ = [
    "DIETS",
    "DIFFICULTY_LABELS",
    "RecipeFilter",
    "TermRef",
    "difficulty",
    "normalize_cuisines",
    "normalize_diets",
    "normalize_difficulty",
    "normalize_meal_types",
    "normalize_seasons",
    "split_values",
]

DIETS: Final = ("vegetarian", "vegan", "pescatarian", "gluten-free", "dairy-free", "nut-free")
_DIET_ALIASES: Final = {
    "vegetarian": "vegetarian",
    "veggie": "vegetarian",
    "lacto ovo vegetarian": "vegetarian",
    "vegan": "vegan",
    "plant based": "vegan",
    "pescatarian": "pescatarian",
    "pescetarian": "pescatarian",
    "gluten free": "gluten-free",
    "glutenfree": "gluten-free",
    "no gluten": "gluten-free",
    "coeliac": "gluten-free",
    "celiac": "gluten-free",
    "dairy free": "dairy-free",
    "dairyfree": "dairy-free",
    "lactose free": "dairy-free",
    "no dairy": "dairy-free",
    "nut free": "nut-free",
    "nutfree": "nut-free",
    "no nuts": "nut-free",
    "tree nut free": "nut-free",
    "peanut free": "nut-free",
}
_MEAL_ALIASES: Final = {
    **{m: m for m in MEAL_TYPES},
    **{c: c for c in COURSES},
    "starter": "appetizer",
    "appetiser": "appetizer",
    "drink": "beverage",
    "side dish": "side",
    "noodles": "noodle",
    "stir fry": "stir-fry",
    "one pot": "one-pot",
    "supper": "dinner",
}
_SEASON_ALIASES: Final = {
    "spring": "spring",
    "summer": "summer",
    "autumn": "autumn",
    "fall": "autumn",
    "winter": "winter",
}
DIFFICULTY_LABELS: Final = {1: "very easy", 2: "easy", 3: "medium", 4: "hard", 5: "very hard"}
_DIFFICULTY_WORDS: Final = {
    "very easy": 1,
    "beginner": 2,
    "easy": 2,
    "simple": 2,
    "medium": 3,
    "moderate": 3,
    "intermediate": 3,
    "hard": 4,
    "difficult": 4,
    "advanced": 4,
    "very hard": 5,
    "expert": 5,
}


def split_values(value: Any) -> list[str]:
    """A list of strings from a list or a comma-separated string (``"vegan,gluten-free"``)."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            continue
        out.extend(part.strip() for part in item.split(",") if part.strip())
    return out


def _key(value: str) -> str:
    return normalize_text(fold(value).replace("-", " ").replace("_", " "))


def normalize_diets(values: Iterable[str], field_name: str) -> tuple[str, ...]:
    out: set[str] = set()
    for value in values:
        key = _key(value)
        diet = _DIET_ALIASES.get(key) or _DIET_ALIASES.get(key.replace(" ", ""))
        if diet is None:
            raise InvalidInput(field_name, f"unknown diet {value!r}; known: {', '.join(DIETS)}")
        out.add(diet)
    return tuple(d for d in DIETS if d in out)


def normalize_cuisines(values: Iterable[str], known: Iterable[str], field_name: str) -> tuple[str, ...]:
    known_set = frozenset(known)
    out: set[str] = set()
    for value in values:
        slug = cuisine_slug(value)
        if slug not in known_set:
            raise InvalidInput(
                field_name, f"unknown cuisine {value!r}; known: {', '.join(sorted(known_set))}"
            )
        out.add(slug)
    return tuple(sorted(out))


def normalize_meal_types(values: Iterable[str], field_name: str) -> tuple[str, ...]:
    out: set[str] = set()
    for value in values:
        key = _key(value)
        meal = _MEAL_ALIASES.get(key)
        if meal is None:
            raise InvalidInput(
                field_name, f"unknown meal type {value!r}; known: {', '.join((*MEAL_TYPES, *COURSES))}"
            )
        out.add(meal)
    return tuple(sorted(out))


def normalize_seasons(values: Iterable[str], field_name: str) -> tuple[str, ...]:
    out: set[str] = set()
    for value in values:
        season = _SEASON_ALIASES.get(_key(value))
        if season is None:
            raise InvalidInput(field_name, f"unknown season {value!r}; known: {', '.join(SEASONS)} (or fall)")
        out.add(season)
    return tuple(s for s in SEASONS if s in out)


def normalize_difficulty(value: Any, field_name: str) -> int | None:
    """1–5, or a word (easy, medium, hard…)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidInput(field_name, "must be 1–5 or easy/medium/hard")
    if isinstance(value, int | float):
        if not 1 <= value <= 5:
            raise InvalidInput(field_name, "must be between 1 and 5")
        return int(value)
    if isinstance(value, str):
        text = _key(value)
        if text.isdigit():
            return normalize_difficulty(int(text), field_name)
        if text in _DIFFICULTY_WORDS:
            return _DIFFICULTY_WORDS[text]
    raise InvalidInput(field_name, "must be 1–5 or one of " + ", ".join(_DIFFICULTY_WORDS))


def difficulty(total_minutes: int | None, lines: int, steps: int, methods: Sequence[str]) -> int:
    """Our derived difficulty 1–5 (the data has none): 1, +1 over 45 minutes in all, +1 over 120, +1 for more
    than 12 ingredient lines or 10 steps, +1 for a technical method (deep-frying, kneading, curing,
    fermenting, smoking, pickling); capped at 5."""
    score = 1
    if total_minutes is not None and total_minutes > 45:
        score += 1
    if total_minutes is not None and total_minutes > 120:
        score += 1
    if lines > 12 or steps > 10:
        score += 1
    if any(m in {"deep-frying", "kneading", "curing", "fermenting", "smoking", "pickling"} for m in methods):
        score += 1
    return min(score, 5)


@dataclass(frozen=True, slots=True)
class TermRef:
    """An ingredient named by the caller: its catalog slug when it resolves, and its words (singular) for
    the text match on recipe lines."""

    text: str
    slug: str | None
    words: tuple[str, ...]

    def key(self) -> str:
        return self.slug or "~" + " ".join(self.words)

    @staticmethod
    def words_of(text: str) -> tuple[str, ...]:
        return singular_tokens(tokens(normalize_text(fold(text))))


def _contains_phrase(words: Sequence[str], phrase: Sequence[str]) -> bool:
    n = len(phrase)
    if n == 0:
        return False
    return any(tuple(words[i : i + n]) == tuple(phrase) for i in range(len(words) - n + 1))


@dataclass(frozen=True, slots=True)
class RecipeFilter:
    """A normalised set of hard constraints (empty = no constraint)."""

    cuisines: tuple[str, ...] = ()
    diets: tuple[str, ...] = ()
    meal_types: tuple[str, ...] = ()
    seasons: tuple[str, ...] = ()
    max_prep_time: int | None = None
    max_total_time: int | None = None
    max_difficulty: int | None = None
    exclude: tuple[TermRef, ...] = ()
    query: tuple[str, ...] = field(default=())  # query words (singular)

    @property
    def is_empty(self) -> bool:
        return not (
            self.cuisines
            or self.diets
            or self.meal_types
            or self.seasons
            or self.exclude
            or self.query
            or self.max_prep_time is not None
            or self.max_total_time is not None
            or self.max_difficulty is not None
        )

    def key(self) -> dict[str, Any]:
        return {
            "cuisines": self.cuisines,
            "diets": self.diets,
            "meal_types": self.meal_types,
            "seasons": self.seasons,
            "max_prep_time": self.max_prep_time,
            "max_total_time": self.max_total_time,
            "max_difficulty": self.max_difficulty,
            "exclude": sorted(t.key() for t in self.exclude),
            "q": self.query,
        }

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.cuisines:
            out["cuisines"] = list(self.cuisines)
        if self.diets:
            out["diets"] = list(self.diets)
        if self.meal_types:
            out["mealTypes"] = list(self.meal_types)
        if self.seasons:
            out["seasons"] = list(self.seasons)
        if self.max_prep_time is not None:
            out["maxPrepTime"] = self.max_prep_time
        if self.max_total_time is not None:
            out["maxTotalTime"] = self.max_total_time
        if self.max_difficulty is not None:
            out["maxDifficulty"] = self.max_difficulty
        if self.exclude:
            out["excludedIngredients"] = [{"input": t.text, "slug": t.slug} for t in self.exclude]
        if self.query:
            out["q"] = " ".join(self.query)
        return out

    def accepts(self, entry: RecipeEntry) -> bool:
        if self.cuisines and entry.cuisine_slug not in self.cuisines:
            return False
        if self.max_prep_time is not None and (entry.prep is None or entry.prep > self.max_prep_time):
            return False
        if self.max_total_time is not None and (entry.total is None or entry.total > self.max_total_time):
            return False
        if self.max_difficulty is not None and entry.difficulty > self.max_difficulty:
            return False
        if self.meal_types and entry.meal_set.isdisjoint(self.meal_types):
            return False
        if self.seasons and entry.seasons.isdisjoint(self.seasons):
            return False
        for diet in self.diets:
            if diet not in entry.diets_ok:
                return False
        for term in self.exclude:
            if term.slug is not None and term.slug in entry.slugs:
                return False
            if term.words and any(_contains_phrase(words, term.words) for words in entry.line_words):
                return False
        if self.query:
            text = entry.search_text
            if not all(" " + word in text for word in self.query):
                return False
        return True
