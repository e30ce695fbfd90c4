"""Dietary facts: per-ingredient flags and per-recipe diet verdicts.

The upstream data has no dietary tags and coarse categories ("protein", "grain", "oil"…), so the flags combine
the category with a curated keyword table (``diet_rules.json``; rules described there and in docs/catalog.md).

``recipe_diets(recipe, resolver)`` answers, for vegetarian, vegan, pescatarian, gluten-free, dairy-free and
nut-free: ``satisfied`` True / False / None (None = cannot be claimed: some lines are unresolved and might
break it), the lines that break it, and the unresolved lines. A recipe with an unresolved ingredient is never
claimed to satisfy a restriction; a line whose own text names meat, fish, dairy, egg… counts even when the
name does not resolve ("2 lbs beef chuck" breaks vegetarian whatever the resolver says).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from shared.catalog.models import NO_FLAGS, DietFlags, IngredientLine, Recipe
from shared.catalog.text import normalize_text, singular_tokens, tokens

if TYPE_CHECKING:
    from shared.catalog.resolver import IngredientResolver, Resolution

__all__ = [
    "ANIMAL_FLAGS",
    "DIETS",
    "DietReport",
    "DietRules",
    "DietVerdict",
    "LineIssue",
    "diet_rules",
    "line_flags",
    "recipe_diets",
    "text_flags",
]

_RULES_PATH = Path(__file__).with_name("diet_rules.json")
_FLAG_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(DietFlags))
ANIMAL_FLAGS: tuple[str, ...] = (
    "is_meat",
    "is_poultry",
    "is_fish",
    "is_shellfish",
    "is_dairy",
    "is_egg",
    "is_honey",
)
_CONJUNCTIONS = frozenset({"and", "or", "with", "plus", "n"})
_MASK = "\x00"

# diet -> flags that break it
DIETS: Mapping[str, tuple[str, ...]] = {
    "vegetarian": ("is_meat", "is_poultry", "is_fish", "is_shellfish"),
    "vegan": (*ANIMAL_FLAGS, "is_animal_derived"),
    "pescatarian": ("is_meat", "is_poultry"),
    "gluten-free": ("contains_gluten",),
    "dairy-free": ("is_dairy",),
    "nut-free": ("is_tree_nut", "is_peanut"),
}

Phrase = tuple[str, ...]


def _phrases(items: Iterable[str]) -> frozenset[Phrase]:
    return frozenset(singular_tokens(tokens(normalize_text(i))) for i in items if i.strip())


@dataclass(frozen=True, slots=True)
class _FlagRule:
    keywords: frozenset[Phrase]
    neutral_by_first: Mapping[str, tuple[Phrase, ...]]  # first word -> phrases, longest first
    negators: frozenset[Phrase]
    max_len: int
    first_words: frozenset[str]  # first word of every keyword (quick reject)


class DietRules:
    """Compiled ``diet_rules.json``."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.flags: dict[str, _FlagRule] = {}
        for flag, spec in raw["flags"].items():
            if flag not in _FLAG_NAMES:
                raise ValueError(f"diet_rules.json: unknown flag {flag!r}")
            keywords = _phrases(spec.get("keywords", ()))
            by_first: dict[str, list[Phrase]] = {}
            for phrase in sorted(_phrases(spec.get("neutral", ())), key=lambda p: (-len(p), p)):
                by_first.setdefault(phrase[0], []).append(phrase)
            self.flags[flag] = _FlagRule(
                keywords=keywords,
                neutral_by_first={k: tuple(v) for k, v in by_first.items()},
                negators=_phrases(spec.get("negators", ())),
                max_len=max((len(k) for k in keywords), default=1),
                first_words=frozenset(k[0] for k in keywords),
            )
        self.free_from: dict[Phrase, frozenset[str]] = {}
        for word, flags in raw.get("free_from", {}).items():
            if word.startswith("_"):
                continue
            (phrase,) = _phrases([word])
            self.free_from[phrase] = frozenset(flags)
        self.category_rules: tuple[Mapping[str, Any], ...] = tuple(raw.get("category_rules", ()))
        self.slug_overrides: Mapping[str, Mapping[str, Any]] = raw.get("slug_overrides", {})

    # --- text scanning --------------------------------------------------------------------------------
    def scan_words(self, words: Phrase) -> DietFlags:
        """Flags named by a token sequence (already normalised and singularised)."""
        # words inside a free-from phrase ("egg" in "egg-free", "gluten" in "gluten-free") name nothing
        covered: set[int] = set()
        for i in range(len(words)):
            for size in (1, 2, 3):
                if tuple(words[i : i + size]) in self.free_from:
                    covered.update(range(i, i + size))
        found: dict[str, bool] = {}
        for flag, rule in self.flags.items():
            found[flag] = self._flag_in(words, flag, rule, covered)
        if any(found.get(f) for f in ANIMAL_FLAGS):
            found["is_animal_derived"] = True
        return DietFlags(**found)

    def scan(self, text: str) -> DietFlags:
        """Flags named by free text (``"2 lbs beef chuck"`` → is_meat)."""
        return _scan_cached(self, text)

    def _flag_in(self, words: Phrase, flag: str, rule: _FlagRule, covered: set[int]) -> bool:
        if not any(w in rule.first_words for w in words):
            return False
        masked = list(words)
        for i in covered:
            masked[i] = _MASK
        n = len(masked)
        if rule.neutral_by_first:
            for i in range(n):
                for phrase in rule.neutral_by_first.get(words[i], ()):
                    size = len(phrase)
                    if tuple(words[i : i + size]) == phrase:
                        for j in range(i, i + size):
                            masked[j] = _MASK
                        break
        for start in range(n):
            if masked[start] not in rule.first_words:
                continue
            for size in range(min(rule.max_len, n - start), 0, -1):
                if tuple(masked[start : start + size]) in rule.keywords and not self._cancelled(
                    words, masked, start, flag, rule
                ):
                    return True
        return False

    def _cancelled(self, words: Phrase, masked: list[str], start: int, flag: str, rule: _FlagRule) -> bool:
        # a flag-specific negator right before the keyword ("coconut milk", "rice noodle")
        for size in range(1, 4):
            if start - size >= 0 and tuple(masked[start - size : start]) in rule.negators:
                return True
        # a free-from word right before it, or one (non-conjunction) word earlier ("vegan parmesan cheese")
        for gap in (0, 1):
            end = start - gap
            if gap and (end - 1 < 0 or words[end] in _CONJUNCTIONS):
                continue
            for size in range(1, 4):
                if end - size < 0:
                    continue
                flags = self.free_from.get(tuple(words[end - size : end]))
                if flags is not None and flag in flags:
                    return True
        return False

    # --- ingredients ------------------------------------------------------------------------------------
    def ingredient_flags(
        self, slug: str, name: str, category: str, subcategory: str | None, aliases: Iterable[str] = ()
    ) -> DietFlags:
        """Category rules OR keyword scan of the name (and alias names), then the slug overrides."""
        flags = self.scan(name)
        for alias in aliases:
            flags = flags.union(self.scan(alias.replace("_", " ")))
        values = {f: getattr(flags, f) for f in _FLAG_NAMES}
        for rule in self.category_rules:
            if rule.get("category") != category:
                continue
            if "subcategory" in rule and rule["subcategory"] != subcategory:
                continue
            if any(values.get(u) for u in rule.get("unless", ())):
                continue
            for f in rule["flags"]:
                values[f] = True
        override = self.slug_overrides.get(slug)
        if override:
            for f in override.get("add", ()):
                values[f] = True
            for f in override.get("remove", ()):
                values[f] = False
        if any(values[f] for f in ANIMAL_FLAGS):
            values["is_animal_derived"] = True
        return DietFlags(**values)


@lru_cache(maxsize=32768)
def _scan_cached(rules: DietRules, text: str) -> DietFlags:
    words = singular_tokens(tokens(normalize_text(text)))
    if not words:
        return NO_FLAGS
    return rules.scan_words(words)


@lru_cache(maxsize=1)
def diet_rules() -> DietRules:
    """The shipped rules (``shared/catalog/diet_rules.json``), compiled once."""
    return DietRules(orjson.loads(_RULES_PATH.read_bytes()))


# --- recipe verdicts ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineIssue:
    line: str  # the recipe line's name as written
    flags: tuple[str, ...]  # the flags that break the diet (e.g. ("is_meat",))
    ingredient: str | None  # resolved catalog slug, None when unresolved
    from_text: bool  # True when the line's own words (not only the resolved ingredient) carry the flag
    optional: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class DietVerdict:
    diet: str
    satisfied: bool | None
    violations: tuple[LineIssue, ...]
    unresolved: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "diet": self.diet,
            "satisfied": self.satisfied,
            "violations": [v.to_dict() for v in self.violations],
            "unresolved": list(self.unresolved),
        }


@dataclass(frozen=True, slots=True)
class DietReport:
    recipe_id: str
    verdicts: Mapping[str, DietVerdict]
    unresolved: tuple[str, ...]  # unresolved food lines (non-food lines such as skewers are not listed)
    line_flags: tuple[tuple[str, DietFlags], ...]  # every line with its effective flags

    def satisfied(self, diet: str) -> bool | None:
        return self.verdicts[diet].satisfied

    @property
    def tags(self) -> tuple[str, ...]:
        """The diets this recipe can be claimed to satisfy (True only, never None)."""
        return tuple(d for d, v in self.verdicts.items() if v.satisfied is True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "recipe_id": self.recipe_id,
            "verdicts": {d: v.to_dict() for d, v in self.verdicts.items()},
            "unresolved": list(self.unresolved),
            "tags": list(self.tags),
        }


def text_flags(name: str, resolver: IngredientResolver) -> DietFlags:
    """Flags a line's own words name, alternative by alternative ("oyster or straw mushrooms" is read as
    "oyster mushrooms" / "straw mushrooms", so it names no shellfish)."""
    rules = resolver.diet_rules
    flags = NO_FLAGS
    for alt in resolver.alternatives(name) or [name]:
        flags = flags.union(rules.scan(alt))
    return flags


def line_flags(name: str, resolution: Resolution, resolver: IngredientResolver) -> DietFlags:
    """Effective flags of one line: the resolved ingredient's flags OR the flags its own words name."""
    flags = text_flags(name, resolver)
    if resolution.ingredient is not None:
        flags = flags.union(resolution.ingredient.diet)
    return flags


def recipe_diets(recipe: Recipe, resolver: IngredientResolver) -> DietReport:
    """Derive the six diet verdicts of a recipe from its resolved lines (see the module docstring)."""
    per_line: list[tuple[IngredientLine, Resolution, DietFlags, DietFlags]] = []
    unresolved: list[str] = []
    for line in recipe.ingredients:
        res = resolver.resolve(line.name)
        if res.non_food:
            continue
        own = text_flags(line.name, resolver)
        flags = own.union(res.ingredient.diet) if res.ingredient is not None else own
        per_line.append((line, res, flags, own))
        if res.ingredient is None:
            unresolved.append(line.name)
    verdicts: dict[str, DietVerdict] = {}
    for diet, breaking in DIETS.items():
        violations: list[LineIssue] = []
        for line, res, flags, own in per_line:
            hit = tuple(f for f in breaking if getattr(flags, f))
            if not hit:
                continue
            violations.append(
                LineIssue(
                    line=line.name,
                    flags=hit,
                    ingredient=res.ingredient.slug if res.ingredient is not None else None,
                    from_text=any(getattr(own, f) for f in hit),
                    optional=line.optional,
                )
            )
        unresolved_here = tuple(
            line.name
            for line, res, flags, _own in per_line
            if res.ingredient is None and not any(getattr(flags, f) for f in breaking)
        )
        satisfied: bool | None
        if violations:
            satisfied = False
        elif unresolved_here:
            satisfied = None
        else:
            satisfied = True
        verdicts[diet] = DietVerdict(diet, satisfied, tuple(violations), unresolved_here)
    return DietReport(
        recipe_id=recipe.id,
        verdicts=verdicts,
        unresolved=tuple(unresolved),
        line_flags=tuple((line.name, flags) for line, _res, flags, _own in per_line),
    )
