"""Ingredient-name resolution: free recipe text → catalog ingredient.

``IngredientResolver(catalog).resolve("2 cups chopped fresh basil leaves")`` →
``Resolution(ingredient=<basil>, matched_by="descriptors", input=...)``.

Stages, most to least certain (the first stage that matches wins; every stage is deterministic):

1. ``exact``   — the normalised text (accents folded, case, punctuation, leading quantity/unit removed) is a
   catalog name or slug;
2. ``alias``   — an old upstream key, a duplicate key, or an alternative name given in parentheses upstream;
3. ``synonym`` — the curated table ``synonyms.json`` (same thing, a variety of, or a form of a catalog item);
4. ``plural``  — the same after folding plurals (tomatoes→tomato, berries→berry, leaves→leaf);
5. ``descriptors`` — after dropping quantities, preparation words and qualifiers ("chopped", "fresh",
   "boneless", "extra-virgin", "large"…) and trailing part words ("leaves", "cloves", "thighs", "juice"…);
6. ``head_noun`` — conservative fallback: the longest catalog name / synonym contained as whole words,
   rightmost (the English head noun) on ties.

Parenthetical notes are tried as alternatives ("besan (chickpea flour)"), and "or"/"/"/","/"and" lists resolve
to their first resolvable alternative ("ghee or butter" → ghee; "oyster or straw mushrooms" is read as "oyster
mushrooms or straw mushrooms").

Safety: stages 5 and 6 are guarded by the dietary keyword rules of the text. A guess may never bring an animal
flag the words do not name ("vegan butter" does not resolve to butter, "almond milk" is not milk); a head-noun
guess must also keep the animal class the words do name and may not add gluten or nuts they do not name
("teff flour" is not wheat flour). Matching is on whole words: "eggplant" is never egg. Non-food lines
(skewers, banana leaves used as wrappers, a kitchen towel) are recognised as ``non_food``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import orjson

from shared.catalog.diet import ANIMAL_FLAGS, DietRules, diet_rules
from shared.catalog.models import Catalog, Ingredient
from shared.catalog.text import fold, normalize_text, singular_tokens, singularize, tokens
from shared.catalog.units import UNIT_WORDS

__all__ = ["DESCRIPTORS", "PART_WORDS", "IngredientResolver", "MatchedBy", "Relation", "Resolution"]

MatchedBy = Literal["exact", "alias", "synonym", "plural", "descriptors", "head_noun", "non_food"]
Relation = Literal["same", "variety", "form"]

_SYNONYMS_PATH = Path(__file__).with_name("synonyms.json")
_STAGE_RANK: dict[str, int] = {
    "exact": 0,
    "alias": 1,
    "synonym": 2,
    "plural": 3,
    "descriptors": 4,
    "head_noun": 5,
    "non_food": 6,
}

# Words that qualify an ingredient without changing what it is. Dropped at stage 5 only (after exact lookups,
# so "fresh basil", "dried oregano", "ground cinnamon" still match their own catalog records first).
DESCRIPTORS: frozenset[str] = frozenset(
    """
    fresh freshly chopped finely roughly coarsely thinly thickly minced diced sliced grated shredded crushed
    ground whole large medium small extra virgin organic raw ripe ripened peeled unpeeled seeded deseeded
    pitted boneless skinless lean trimmed cooked uncooked frozen thawed canned dried dry toasted roasted
    softened melted cold warm hot lukewarm beaten lightly packed heaping level sifted halved quartered cubed
    julienned mashed plain unsalted salted unsweetened sweetened good quality high best authentic homemade
    prepared optional divided additional more plus about approximately taste to for serving garnish of the a
    an some few very day old leftover stale crusty firm soft full low nonfat skim thick cut thin bite sized
    boiling iced mixed assorted chilled cool premium pure natural wild baby young mature aged fine coarse
    flaky real genuine traditional artisanal imported local seasonal sharp mild vine tender crisp crispy
    crunchy steamed fried grilled boiled poached blanched brined marinated smoked cured rinsed drained soaked
    washed cleaned picked torn split hulled shelled deveined butterflied spatchcocked rendered clarified
    reduced strong hard tiny big jumbo giant heaped generous pinch handful well shaken stirred preferably
    ideally into pieces piece chunks chunk wedges strips rings rounds matchsticks batons florets segments
    cubes dice inch inches cm mm kernels kernel unbleached instant quick italian greek mexican thai japanese
    chinese korean vietnamese persian indian french spanish american turkish lebanese moroccan ethiopian
    russian ukrainian georgian asian western southern northern kashmiri sicilian tuscan neapolitan roman
    genovese sichuan szechuan cantonese hunan yucatecan oaxacan nigerian ghanaian senegalese kenyan egyptian
    levantine arabic european rich
    """.split()
)
# Trailing words that name a part or form of the thing before them ("basil leaves", "garlic cloves",
# "chicken thighs", "orange juice"). Only dropped when something remains and never before an exact match.
PART_WORDS: frozenset[str] = frozenset(
    """
    leaf sprig stalk stem clove head bulb floret segment wedge fillet piece chunk cube strip slice ring
    half quarter kernel ear rind peel zest juice flesh meat breast thigh wing leg drumstick shoulder belly
    loin tenderloin chop shank rib neck cheek tail bone trotter knuckle hock seed powder paste pulp puree
    flake crumb part portion cut steak side rack fat skin shell water
    """.split()
)
_LEADING_FILLERS = frozenset({"of", "the", "a", "an", "some", "few", "and", "or", "for", "with"})
_ALTERNATIVE_SPLIT = re.compile(r"\s+or\s+|\s*/\s*|\s*,\s*|\s+and\s+|\s+&\s+|\s+with\s+")
_PAREN = re.compile(r"\(([^)]*)\)?")
_QTY = re.compile(
    r"^(?:(?:about|approx|approximately|around|~|a|an)\s+)?"
    r"(?:\d+(?:\.\d+)?(?:\s*/\s*\d+)?(?:\s*-\s*\d+(?:\.\d+)?(?:\s*/\s*\d+)?)?\s*)+"
)


@dataclass(frozen=True, slots=True)
class Resolution:
    ingredient: Ingredient | None
    matched_by: MatchedBy | None
    input: str
    matched_text: str | None = None  # the phrase that matched (normalised)
    relation: Relation | None = None  # how the match relates to the catalog item
    non_food: bool = False

    @property
    def resolved(self) -> bool:
        return self.ingredient is not None

    @property
    def slug(self) -> str | None:
        return self.ingredient.slug if self.ingredient is not None else None

    def to_dict(self) -> dict[str, object]:
        return {
            "input": self.input,
            "slug": self.slug,
            "name": self.ingredient.name if self.ingredient is not None else None,
            "matched_by": self.matched_by,
            "matched_text": self.matched_text,
            "relation": self.relation,
            "non_food": self.non_food,
        }


@dataclass(frozen=True, slots=True)
class _Entry:
    slug: str
    stage: MatchedBy
    relation: Relation


def _key(words: Iterable[str]) -> str:
    return " ".join(words)


def _norm_words(text: str) -> list[str]:
    return tokens(normalize_text(text.replace("_", " ")))


class IngredientResolver:
    """Built once from a catalog; ``resolve()`` is memoised and deterministic."""

    def __init__(
        self,
        catalog: Catalog,
        synonyms: Mapping[str, object] | None = None,
        rules: DietRules | None = None,
    ) -> None:
        self.catalog = catalog
        self.diet_rules = rules or diet_rules()
        raw = synonyms if synonyms is not None else orjson.loads(_SYNONYMS_PATH.read_bytes())
        self._exact: dict[str, _Entry] = {}
        self._singular: dict[str, _Entry] = {}
        self._non_food: set[str] = set()
        self._memo: dict[str, Resolution] = {}
        self._words_memo: dict[str, list[str]] = {}
        self.synonym_errors: list[str] = []
        self._build(raw)
        self._max_len = max((len(k.split()) for k in self._singular), default=1)

    # --- index --------------------------------------------------------------------------------------------
    def _add(self, text: str, entry: _Entry) -> None:
        words = _norm_words(text)
        if not words:
            return
        key = _key(words)
        current = self._exact.get(key)
        if current is None or _STAGE_RANK[entry.stage] < _STAGE_RANK[current.stage]:
            self._exact[key] = entry
        skey = _key(singular_tokens(words))
        current = self._singular.get(skey)
        if current is None or _STAGE_RANK[entry.stage] < _STAGE_RANK[current.stage]:
            self._singular[skey] = entry
        elif (
            current.stage == entry.stage
            and current.slug != entry.slug
            and entry.stage in ("exact", "alias")
            and _key(words) == skey
        ):
            # two records fold to the same singular ("onion"/"onions"): prefer the one already singular
            self._singular[skey] = entry

    def _build(self, raw: Mapping[str, object]) -> None:
        ingredients = self.catalog.ingredients
        for slug in sorted(ingredients):
            ing = ingredients[slug]
            self._add(ing.name, _Entry(slug, "exact", "same"))
            self._add(slug, _Entry(slug, "exact", "same"))
        for alias, slug in sorted(self.catalog.aliases.items()):
            self._add(alias, _Entry(slug, "alias", "same"))
        for slug in sorted(ingredients):
            for alias in ingredients[slug].aliases:
                self._add(alias, _Entry(slug, "alias", "same"))
        relations: tuple[Relation, ...] = ("same", "variety", "form")
        for relation in relations:
            table = raw.get(relation, {})
            if not isinstance(table, Mapping):
                continue
            for phrase, target in table.items():
                if phrase.startswith("_"):
                    continue
                target_slug: str | None = None
                if isinstance(target, str):
                    target_slug = self.catalog.aliases.get(target, target)
                if target_slug is None or target_slug not in ingredients:
                    self.synonym_errors.append(f"{relation}: {phrase!r} -> {target!r} (no such ingredient)")
                    continue
                self._add(phrase, _Entry(target_slug, "synonym", relation))
        non_food = raw.get("non_food", [])
        if isinstance(non_food, list):
            for phrase in non_food:
                words = _norm_words(str(phrase))
                self._non_food.add(_key(words))
                self._non_food.add(_key(singular_tokens(words)))

    # --- public API ---------------------------------------------------------------------------------------
    def resolve(self, name: str) -> Resolution:
        """Resolve one recipe-line name (or any free text naming one ingredient)."""
        found = self._memo.get(name)
        if found is None:
            found = self._resolve(name)
            self._memo[name] = found
        return found

    def resolve_many(self, names: Iterable[str]) -> list[Resolution]:
        return [self.resolve(n) for n in names]

    def alternatives(self, name: str) -> list[str]:
        """The texts a line stands for: its "or"/","/"and" alternatives (with a shared head noun distributed,
        "oyster or straw mushrooms" → "oyster mushrooms", "straw mushrooms") and its parenthetical notes."""
        main, parens = self._split(name)
        out = self._expand(main) or ([main] if main else [])
        for p in parens:
            out.extend(self._expand(p) or [p])
        return [o for o in dict.fromkeys(out) if o]

    # --- internals ----------------------------------------------------------------------------------------
    def _split(self, name: str) -> tuple[str, list[str]]:
        text = fold(name).replace("[", "(").replace("]", ")")
        parens = [p.strip() for p in _PAREN.findall(text) if p.strip()]
        main = _PAREN.sub(" ", text)
        main = main.replace('"', " ").replace("'s ", "s ")
        main = re.sub(r"\s+", " ", main).strip(" ,;:.-")
        return main, parens

    def _strip_quantity(self, words: list[str]) -> list[str]:
        """Drop a leading quantity and unit: "2 cups", "1/2 tsp", "a pinch of", "3-4 large"."""
        text = " ".join(words)
        m = _QTY.match(text)
        had_number = bool(m and m.group(0).strip())
        if m:
            text = text[m.end() :]
        rest = text.split()
        # units only right after a number, or an unmistakable measure word at the start ("pinch of salt")
        while rest and (rest[0] in UNIT_WORDS and (had_number or rest[0] in ("pinch", "dash", "handful"))):
            if len(rest) == 1:
                break
            rest = rest[1:]
        while rest and rest[0] in _LEADING_FILLERS and len(rest) > 1:
            rest = rest[1:]
        return rest

    def _words(self, text: str) -> list[str]:
        found = self._words_memo.get(text)
        if found is None:
            found = self._strip_quantity(tokens(normalize_text(text)))
            self._words_memo[text] = found
        return found

    def _lookup(self, words: list[str] | tuple[str, ...]) -> tuple[_Entry, MatchedBy] | None:
        if not words:
            return None
        key = _key(words)
        entry = self._exact.get(key)
        if entry is not None:
            return entry, entry.stage
        skey = _key(singular_tokens(words))
        entry = self._singular.get(skey)
        if entry is not None:
            return entry, ("plural" if entry.stage == "exact" else entry.stage)
        return None

    def _strip_descriptors(self, words: list[str]) -> list[str]:
        kept = [w for w in words if w not in DESCRIPTORS and not w.isdigit()]
        while len(kept) > 1 and singularize(kept[-1]) in PART_WORDS:
            kept = kept[:-1]
        while kept and kept[0] in _LEADING_FILLERS:
            kept = kept[1:]
        return kept

    def _guard_ok(self, text_words: list[str], ingredient: Ingredient, strict: bool) -> bool:
        """A guessed match must agree with the text's dietary facts.

        Always: the candidate may not be animal-derived in a way the text does not say ("vegan butter" is not
        butter, "almond milk" is not milk). ``strict`` (head-noun guesses) also requires the reverse (a text
        that names an animal product may not become a plant one) and forbids adding gluten or nuts the text
        does not name ("teff flour" is not wheat flour)."""
        text = self.diet_rules.scan(" ".join(text_words))
        cand = ingredient.diet
        text_animal = {f for f in ANIMAL_FLAGS if getattr(text, f)}
        cand_animal = {f for f in ANIMAL_FLAGS if getattr(cand, f)}
        if cand_animal - text_animal:
            return False
        if not strict:
            return True
        if text_animal and not (cand_animal & text_animal):
            return False
        if cand.contains_gluten and not text.contains_gluten:
            return False
        return not (cand.is_nut and not text.is_nut)

    def _phrase(self, text: str, fuzzy: bool) -> Resolution | None:
        """Resolve one phrase (no alternatives): stages 1–5, and 6 when ``fuzzy``."""
        words = self._words(text)
        if not words:
            return None
        found = self._lookup(words)
        if found is not None:
            entry, stage = found
            return self._result(text, entry, stage, _key(words))
        nodesc = [w for w in words if w not in DESCRIPTORS and not w.isdigit()]
        stripped = self._strip_descriptors(words)
        for attempt in (nodesc, stripped):  # "fresh mint leaves": "mint leaves" before "mint"
            if attempt and attempt != words:
                found = self._lookup(attempt)
                if found is not None:
                    entry, _stage = found
                    ing = self.catalog.ingredients[entry.slug]
                    if self._guard_ok(words, ing, strict=False):
                        return self._result(text, entry, "descriptors", _key(attempt))
        if not fuzzy:
            return None
        base = nodesc or words
        n = len(base)
        for size in range(min(self._max_len, n), 0, -1):
            hits: list[tuple[_Entry, list[str]]] = []
            for start in range(n - size, -1, -1):  # rightmost (the English head noun) first
                span = base[start : start + size]
                found = self._lookup(span)
                if found is None:
                    continue
                entry, _stage = found
                if self._guard_ok(words, self.catalog.ingredients[entry.slug], strict=True):
                    hits.append((entry, span))
            if hits:
                entry, span = hits[0]
                head_category = self.catalog.ingredients[entry.slug].category
                for other, other_span in hits[1:]:
                    # "ricotta cheese": a more specific kind named by the modifier wins over the generic head
                    if (
                        other.relation == "variety"
                        and other.slug != entry.slug
                        and self.catalog.ingredients[other.slug].category == head_category
                    ):
                        entry, span = other, other_span
                        break
                return self._result(text, entry, "head_noun", _key(span))
        return None

    def _result(self, text: str, entry: _Entry, stage: MatchedBy, matched: str) -> Resolution:
        return Resolution(
            ingredient=self.catalog.ingredients[entry.slug],
            matched_by=stage,
            input=text,
            matched_text=matched,
            relation=entry.relation,
        )

    def _expand(self, text: str) -> list[str]:
        """Split a phrase into alternatives; distribute a shared trailing head ("white or black pepper")."""
        parts = [p.strip() for p in _ALTERNATIVE_SPLIT.split(text) if p and p.strip()]
        if len(parts) <= 1:
            return []
        last_words = self._words(parts[-1])
        out: list[str] = []
        for part in parts[:-1]:
            words = [w for w in self._words(part) if w not in DESCRIPTORS] or self._words(part)
            if len(words) == 1 and len(last_words) >= 2:
                # "white or black pepper" -> "white pepper"
                # "oaxaca or monterey jack cheese" -> "oaxaca cheese"
                for k in range(1, len(last_words)):
                    distributed = [*words, *last_words[k:]]
                    if self._lookup(distributed) is not None or self._lookup(
                        self._strip_descriptors(distributed)
                    ):
                        out.append(" ".join(distributed))
                        break
                else:
                    out.append(part)
                continue
            out.append(part)
        out.append(parts[-1])
        return out

    def _is_non_food(self, text: str) -> bool:
        words = self._words(text)
        if not words:
            return False
        if _key(words) in self._non_food or _key(singular_tokens(words)) in self._non_food:
            return True
        stripped = self._strip_descriptors(words)
        return bool(stripped) and (
            _key(stripped) in self._non_food or _key(singular_tokens(stripped)) in self._non_food
        )

    def _resolve(self, name: str) -> Resolution:
        main, parens = self._split(name)
        if not main and not parens:
            return Resolution(None, None, name)
        if main and self._is_non_food(main):
            return Resolution(None, "non_food", name, non_food=True)
        candidates = [c for c in [main, *parens] if c]
        # 1) whole phrase (and each parenthetical), stages 1-5: best stage wins, main text first on ties
        best: Resolution | None = None
        for cand in candidates:
            res = self._phrase(cand, fuzzy=False)
            if res is not None and (
                best is None
                or _STAGE_RANK[res.matched_by or "non_food"] < _STAGE_RANK[best.matched_by or "non_food"]
            ):
                best = res
        if best is not None:
            return self._with_input(best, name)
        # 2) alternatives ("ghee or butter", "lamb, beef, or chicken"): the first resolvable one wins
        alts = self._expand(main) if main else []
        for alt in alts:
            res = self._phrase(alt, fuzzy=False) or self._phrase(alt, fuzzy=True)
            if res is not None:
                return self._with_input(res, name)
        # 3) conservative head-noun fallback: the whole text, then the parenthetical notes
        for cand in [main, *parens]:
            if not cand:
                continue
            res = self._phrase(cand, fuzzy=True)
            if res is not None:
                return self._with_input(res, name)
        if any(self._is_non_food(c) for c in [*alts, *parens]):
            return Resolution(None, "non_food", name, non_food=True)
        return Resolution(None, None, name)

    @staticmethod
    def _with_input(res: Resolution, name: str) -> Resolution:
        return Resolution(res.ingredient, res.matched_by, name, res.matched_text, res.relation, res.non_food)
