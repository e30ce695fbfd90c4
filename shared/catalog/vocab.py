"""Controlled vocabularies of the catalog and the normalisers that map upstream spellings onto them."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from shared.catalog.text import fold, normalize_text
from shared.zodiac import PLANETS, SIGNS

__all__ = [
    "COURSES",
    "ELEMENTS",
    "LUNAR_PHASES",
    "MEAL_TYPES",
    "PLANETS",
    "SEASONS",
    "SIGNS",
    "canonical_lunar_phase",
    "canonical_planet",
    "canonical_season_tokens",
    "canonical_sign",
    "classify_meal_label",
    "cuisine_slug",
    "spice_level",
]

ELEMENTS: tuple[str, str, str, str] = ("Fire", "Water", "Earth", "Air")

# Real bodies only (shared.zodiac.PLANETS, the ESMS engine's Sun..Pluto). "Earth", "Ceres"… are dropped.
_PLANET_BY_KEY = {p.lower(): p for p in PLANETS}

_SIGNS = frozenset(SIGNS)

SEASONS: tuple[str, str, str, str] = ("spring", "summer", "autumn", "winter")

# The eight canonical lunar phase names (lowercase, as the ingredient data's lunarPhaseModifiers keys).
LUNAR_PHASES: tuple[str, ...] = (
    "new moon",
    "waxing crescent",
    "first quarter",
    "waxing gibbous",
    "full moon",
    "waning gibbous",
    "last quarter",
    "waning crescent",
)
_LUNAR_ALIASES = {
    **{p: p for p in LUNAR_PHASES},
    "new": "new moon",
    "dark moon": "new moon",  # the dark of the moon is the new-moon phase
    "full": "full moon",
    "third quarter": "last quarter",
    "last quarter moon": "last quarter",
    "third quarter moon": "last quarter",
    "first quarter moon": "first quarter",
    "waxing crescent moon": "waxing crescent",
    "waning crescent moon": "waning crescent",
    "waxing gibbous moon": "waxing gibbous",
    "waning gibbous moon": "waning gibbous",
}
# Deliberately NOT mapped (ambiguous → dropped and counted): "waxing", "waning", "waning moon", "gibbous",
# "crescent", "quarter", "three-quarter moon" (could mean a 75 %-lit gibbous or the last quarter).


def canonical_planet(value: object) -> str | None:
    """``"mars"``/``"Mars"`` → ``"Mars"``; not a real body (``"Earth"``, ``"Ceres"``, ``"Apollo"``) → None."""
    if not isinstance(value, str):
        return None
    return _PLANET_BY_KEY.get(value.strip().lower())


def canonical_sign(value: object) -> str | None:
    """``"Taurus"`` → ``"taurus"``; anything else → None."""
    if not isinstance(value, str):
        return None
    key = value.strip().lower()
    return key if key in _SIGNS else None


def canonical_lunar_phase(value: object) -> str | None:
    """One of :data:`LUNAR_PHASES` or None (ambiguous names are dropped, not guessed)."""
    if not isinstance(value, str):
        return None
    return _LUNAR_ALIASES.get(normalize_text(value.replace("-", " ")))


_SEASON_WORDS = {
    "spring": ("spring",),
    "summer": ("summer",),
    "autumn": ("autumn",),
    "fall": ("autumn",),
    "winter": ("winter",),
    "all": SEASONS,
    "year round": SEASONS,
    "yearround": SEASONS,
    "all year": SEASONS,
    "all seasons": SEASONS,
    "year": SEASONS,
}


def canonical_season_tokens(values: Iterable[object]) -> tuple[tuple[str, ...], list[str]]:
    """Map season strings to canonical seasons (canonical order, deduplicated).

    ``"fall"``/``"autumn"`` → autumn; ``"all"``/``"year-round"`` → all four; ``"late summer"``/``"peak:
    fall-winter"`` → the season words they contain. Returns ``(seasons, ignored)`` where ``ignored`` lists the
    strings that named no season at all (``"celebration"``, ``"varies by variety"``…).
    """
    key = tuple(v for v in values if isinstance(v, str))
    seasons, ignored = _season_tokens(key)
    return seasons, list(ignored)


@lru_cache(maxsize=1024)
def _season_tokens(values: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    found: set[str] = set()
    ignored: list[str] = []
    for value in values:
        text = normalize_text(value.replace("-", " "))
        hit = False
        if text in _SEASON_WORDS:
            found.update(_SEASON_WORDS[text])
            hit = True
        else:
            for word in text.split():
                seasons = _SEASON_WORDS.get(word)
                if seasons is not None and word != "year":
                    found.update(seasons)
                    hit = True
            if "year round" in text or "all year" in text:
                found.update(SEASONS)
                hit = True
        if not hit:
            ignored.append(value)
    return tuple(s for s in SEASONS if s in found), tuple(ignored)


# --- meal types, courses, diets --------------------------------------------------------------------------

MEAL_TYPES: tuple[str, ...] = (
    "breakfast",
    "brunch",
    "lunch",
    "dinner",
    "appetizer",
    "side",
    "snack",
    "dessert",
    "beverage",
)
_MEAL_ALIASES = {
    **{m: m for m in MEAL_TYPES},
    "starter": "appetizer",
    "appetiser": "appetizer",
    "meze": "appetizer",
    "mezze": "appetizer",
    "primo": "appetizer",  # the Italian first course
    "drink": "beverage",
    "side dish": "side",
}
COURSES: tuple[str, ...] = (
    "soup",
    "salad",
    "stew",
    "casserole",
    "sandwich",
    "pasta",
    "noodle",
    "dim sum",
    "dip",
    "sauce",
    "pastry",
    "bbq",
    "stir-fry",
    "one-pot",
    "street food",
    "baking",
    "sweet",
    "frozen",
)
_COURSE_ALIASES = {
    **{c: c for c in COURSES},
    "noodles": "noodle",
    "stir fry": "stir-fry",
    "one pot": "one-pot",
}
_DIET_ALIASES = {
    "vegan": "vegan",
    "vegetarian": "vegetarian",
    "gluten-free": "gluten-free",
    "gluten free": "gluten-free",
    "dairy-free": "dairy-free",
    "low carb": "low-carb",
    "low-carb": "low-carb",
    "raw": "raw",
    "pescatarian": "pescatarian",
}


def classify_meal_label(value: object) -> tuple[str, str] | None:
    """Sort one upstream ``mealType`` label into ``("meal", x)``, ``("course", x)``, ``("diet", x)`` or
    ``("tag", x)`` (occasions and styles such as "celebration", "comfort food", "seafood")."""
    if not isinstance(value, str) or not value.strip():
        return None
    key = fold(value).strip()
    if key in _MEAL_ALIASES:
        return ("meal", _MEAL_ALIASES[key])
    if key in _COURSE_ALIASES:
        return ("course", _COURSE_ALIASES[key])
    if key in _DIET_ALIASES:
        return ("diet", _DIET_ALIASES[key])
    return ("tag", key)


# --- cuisines ---------------------------------------------------------------------------------------------

_CUISINE_SLUG_ALIASES = {
    "middleeastern": "middle-eastern",
    "middle eastern": "middle-eastern",
    "middle-eastern": "middle-eastern",
}


def cuisine_slug(value: str) -> str:
    """``"Middle Eastern"``/``"MiddleEastern"``/``"middle eastern"`` → ``"middle-eastern"``; ``"Thai"`` →
    ``"thai"``."""
    key = fold(value).strip()
    if key in _CUISINE_SLUG_ALIASES:
        return _CUISINE_SLUG_ALIASES[key]
    key = normalize_text(key.replace("-", " ").replace("/", " "))
    if key.replace(" ", "") in _CUISINE_SLUG_ALIASES:
        return _CUISINE_SLUG_ALIASES[key.replace(" ", "")]
    return key.replace(" ", "-")


# --- spice level --------------------------------------------------------------------------------------------

SPICE_LEVELS: tuple[str, ...] = ("none", "mild", "medium", "hot", "very hot")
# Ranges round UP (a spice-averse diner is better warned than surprised).
_SPICE_ALIASES = {
    "none": "none",
    "no": "none",
    "low": "mild",
    "mild": "mild",
    "mild-medium": "medium",
    "medium": "medium",
    "medium-hot": "hot",
    "high": "hot",
    "hot": "hot",
    "spicy": "hot",
    "very high": "very hot",
    "very hot": "very hot",
    "fiery": "very hot",
    "extra hot": "very hot",
}


def spice_level(value: object) -> tuple[str | None, int | None]:
    """``"Mild-Medium"`` → ``("medium", 2)``; unknown → ``(None, None)``. Scale 0 (none) … 4 (very hot)."""
    if not isinstance(value, str):
        return (None, None)
    level = _SPICE_ALIASES.get(fold(value).strip())
    if level is None:
        return (None, None)
    return (level, SPICE_LEVELS.index(level))
