"""Amount + unit → grams (domain.md §5), with a documented normalisation table.

* mass: kg 1000, g 1, mg 0.001, oz 28.35, lb 453.59;
* volume (density 1, as upstream): cup 240, tbsp 15, tsp 5, ml 1, l 1000 — plus our extensions fl oz 29.57,
  pint 473.18, quart 946.35, gallon 3785.41, dl 100, cl 10, pinch 0.3, dash 0.6, drop 0.05, splash 5,
  shot 44, glass 240, bottle 750;
* count units (``large``, ``clove``, ``can``, ``bunch``…) by a typical weight per keyword / ingredient /
  category from ``unit_weights.json``; ``small``/``large``… multiply (``size_factors``);
* a missing or zero amount counts as 1; a missing unit means grams; an unknown unit → the amount is used as
  grams AND the result says ``known=False`` (reported, never silently accepted).

Parenthetical sizes are honoured: ``"can (14oz)"`` is a 397 g can, ``"stick (1/2 cup)"`` a 120 g stick,
``"jar (about 60 leaves)"`` 60 leaves, ``"2-inch piece"`` two inches.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import orjson

from shared.catalog.text import fold, normalize_text, singular_tokens, tokens

if TYPE_CHECKING:
    from shared.catalog.models import Ingredient

__all__ = [
    "MASS_G",
    "UNIT_WORDS",
    "VOLUME_G",
    "GramsResult",
    "UnitSpec",
    "parse_amount",
    "parse_unit",
    "to_grams",
]

UnitKind = Literal["mass", "volume", "count", "unknown"]

MASS_G: dict[str, float] = {"kg": 1000.0, "g": 1.0, "mg": 0.001, "oz": 28.35, "lb": 453.59}
VOLUME_G: dict[str, float] = {
    "cup": 240.0,
    "tbsp": 15.0,
    "tsp": 5.0,
    "ml": 1.0,
    "l": 1000.0,
    # ours (domain.md lists the five above; these follow the same density-1 convention)
    "fl oz": 29.5735,
    "pint": 473.176,
    "quart": 946.353,
    "gallon": 3785.41,
    "dl": 100.0,
    "cl": 10.0,
    "pinch": 0.3,  # 1/16 tsp
    "dash": 0.6,  # 1/8 tsp
    "drop": 0.05,
    "splash": 5.0,
    "shot": 44.0,
    "glass": 240.0,
    "bottle": 750.0,
}

# spelling -> canonical unit. Keys are folded, lowercase, single-spaced, without trailing dots.
_ALIASES: dict[str, str] = {}


def _alias(canonical: str, *spellings: str) -> None:
    _ALIASES[canonical] = canonical
    for s in spellings:
        _ALIASES[s] = canonical


_alias("g", "gram", "grams", "gr", "grs", "gm", "gms", "gramme", "grammes")
_alias("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms", "kilogramme", "kilogrammes")
_alias("mg", "milligram", "milligrams")
_alias("oz", "ounce", "ounces", "ozs")
_alias("lb", "lbs", "pound", "pounds", "#")
_alias("cup", "cups", "c", "cp")
_alias("tbsp", "tbsps", "tbs", "tbl", "tbls", "tablespoon", "tablespoons", "tblsp", "tbsp heaped")
_alias("tsp", "tsps", "teaspoon", "teaspoons", "tspn")
_alias("ml", "milliliter", "milliliters", "millilitre", "millilitres", "mls", "cc")
_alias("l", "liter", "liters", "litre", "litres", "ltr", "lt")
_alias("dl", "deciliter", "deciliters", "decilitre", "decilitres")
_alias("cl", "centiliter", "centiliters", "centilitre", "centilitres")
_alias("fl oz", "fluid ounce", "fluid ounces", "fl ounce", "fl ounces", "floz")
_alias("pint", "pints", "pt", "pts")
_alias("quart", "quarts", "qt", "qts")
_alias("gallon", "gallons", "gal", "gals")
_alias("pinch", "pinches")
_alias("dash", "dashes")
_alias("drop", "drops")
_alias("splash", "splashes")
_alias("shot", "shots")
_alias("glass", "glasses")
_alias("bottle", "bottles")
# count units
_alias(
    "whole",
    "piece",
    "pieces",
    "pc",
    "pcs",
    "unit",
    "units",
    "item",
    "items",
    "single",
    "each",
    "ea",
    "cut",
    "cuts",
)
_alias("clove", "cloves")
_alias("slice", "slices")
_alias("can", "cans", "tin", "tins")
_alias("bunch", "bunches")
_alias("sprig", "sprigs", "stem", "stems")
_alias("stalk", "stalks", "rib", "ribs")
_alias("head", "heads")
_alias("leaf", "leaves")
_alias("sheet", "sheets")
_alias("stick", "sticks")
_alias("package", "packages", "pack", "packs", "packet", "packets", "pkg", "pkgs", "bag", "bags", "envelope")
_alias("block", "blocks")
_alias("cube", "cubes")
_alias("fillet", "fillets", "filet", "filets")
_alias("link", "links")
_alias("ear", "ears")
_alias("loaf", "loaves")
_alias("strip", "strips")
_alias("inch", "inches", "in")
_alias("star", "stars")
_alias("bouquet", "bouquets")
_alias("handful", "handfuls")
_alias("pod", "pods")
_alias("portion", "portions", "serving", "servings")
_alias("dish", "dishes")
_alias("ball", "balls")
_alias("disk", "disks", "disc", "discs")
_alias("chunk", "chunks")
_alias("tablet", "tablets")
_alias("tube", "tubes")
_alias("jar", "jars")
_alias("bowl", "bowls")
_alias("basket", "baskets")
_alias("side", "sides")
_alias("rack", "racks")
_alias("bone", "bones")
_alias("leg", "legs")
_alias("crust", "crusts")
_alias("root", "roots")

# Count-unit spellings that also imply the item ("2 eggs" written as unit "eggs").
_IMPLIED_ITEM: dict[str, str] = {"egg": "egg", "eggs": "egg", "egg yolk": "egg yolk", "egg yolks": "egg yolk"}
_MULTIPLIER_WORDS: dict[str, float] = {"dozen": 12.0, "dozens": 12.0, "pair": 2.0, "pairs": 2.0}

_DATA = Path(__file__).with_name("unit_weights.json")


@dataclass(frozen=True, slots=True)
class _Weights:
    size_factors: Mapping[str, float]
    # unit -> (default, by_keyword {token tuple: g}, by_category)
    units: Mapping[str, tuple[float, Mapping[tuple[str, ...], float], Mapping[str, float]]]


@lru_cache(maxsize=1)
def _weights() -> _Weights:
    raw = orjson.loads(_DATA.read_bytes())
    units: dict[str, tuple[float, Mapping[tuple[str, ...], float], Mapping[str, float]]] = {}
    for unit, spec in raw["count_units"].items():
        by_kw = {
            singular_tokens(tokens(normalize_text(k))): float(v)
            for k, v in spec.get("by_keyword", {}).items()
        }
        by_cat = {str(k): float(v) for k, v in spec.get("by_category", {}).items()}
        units[unit] = (float(spec["default"]), by_kw, by_cat)
    return _Weights(size_factors={k: float(v) for k, v in raw["size_factors"].items()}, units=units)


COUNT_UNITS: frozenset[str] = frozenset(
    c for c in set(_ALIASES.values()) if c not in MASS_G and c not in VOLUME_G
)
UNIT_WORDS: frozenset[str] = (
    frozenset(_ALIASES) | frozenset(_weights().size_factors) | frozenset(_MULTIPLIER_WORDS)
)


@dataclass(frozen=True, slots=True)
class UnitSpec:
    """A parsed unit string."""

    canonical: str | None  # canonical unit key, None when unknown
    kind: UnitKind
    factor: float = 1.0  # size factor × multiplier (``large`` 1.25, ``dozen`` 12, ``jar (60 leaves)`` 60)
    per_item_g: float | None = None  # explicit item size from a parenthetical ("can (14oz)")
    implied_item: str | None = None  # unit that names the item ("eggs")


@dataclass(frozen=True, slots=True)
class GramsResult:
    grams: float
    unit_canonical: str | None
    known: bool
    kind: UnitKind = "mass"
    approximate: bool = False  # count units and pinches are typical weights, not measurements


_NUMBER = r"(?:\d+\s+\d+/\d+|\d+/\d+|\d+(?:\.\d+)?)"
_QTY_UNIT = re.compile(
    rf"^(?:about |approx |approximately |~)?({_NUMBER})\s*(?:-\s*{_NUMBER}\s*)?([a-z][a-z .]*)?$"
)
_INCH_PIECE = re.compile(rf"^({_NUMBER})\s*(?:-\s*)?inch(?:es)?\s*(?:piece|pieces|chunk|knob)?$")


def parse_amount(text: str) -> float | None:
    """``"1 1/2"`` → 1.5, ``"3/4"`` → 0.75, ``"2-3"`` → 2 (the lower bound), ``"½"`` → 0.5; else None."""
    t = normalize_text(text).replace(" - ", "-")
    m = re.match(rf"^({_NUMBER})", t)
    if not m:
        return None
    total = 0.0
    for part in m.group(1).split():
        if "/" in part:
            num, den = part.split("/")
            if float(den) == 0:
                return None
            total += float(num) / float(den)
        else:
            total += float(part)
    return total


def _base_unit(text: str) -> UnitSpec:
    """A unit phrase without parentheses: ``"large bunch"``, ``"tablespoons"``, ``"2-inch piece"``."""
    if not text:
        return UnitSpec("g", "mass")
    if text in _IMPLIED_ITEM:
        return UnitSpec("whole", "count", implied_item=_IMPLIED_ITEM[text])
    if text in _MULTIPLIER_WORDS:
        return UnitSpec("whole", "count", factor=_MULTIPLIER_WORDS[text])
    m = _INCH_PIECE.match(text)
    if m:
        return UnitSpec("inch", "count", factor=parse_amount(m.group(1)) or 1.0)
    canonical = _ALIASES.get(text)
    if canonical is not None:
        kind: UnitKind = "mass" if canonical in MASS_G else "volume" if canonical in VOLUME_G else "count"
        return UnitSpec(canonical, kind)
    sizes = _weights().size_factors
    if text in sizes:
        return UnitSpec("whole", "count", factor=sizes[text])
    words = text.split()
    # "large bunch", "small head", "generous pinch", "whole heads", "thick slices", "small dish"
    if len(words) >= 2:
        first, rest = words[0], " ".join(words[1:])
        if first in sizes or first == "whole":
            inner = _base_unit(rest)
            if inner.canonical is not None:
                return UnitSpec(
                    inner.canonical,
                    inner.kind,
                    factor=inner.factor * sizes.get(first, 1.0),
                    implied_item=inner.implied_item,
                )
    return UnitSpec(None, "unknown")


def _parenthetical_size(inner: str) -> tuple[float | None, UnitSpec | None, float]:
    """Parse ``"14oz"``, ``"1/2 cup"``, ``"8oz each"``, ``"about 60 leaves"``, ``"2-inch"``.

    Returns ``(per_item_grams, count_unit_spec, count)``; at most one of the first two is set."""
    text = inner.replace(" each", "").strip()
    text = re.sub(rf"({_NUMBER})([a-z])", r"\1 \2", text)  # "14oz" -> "14 oz"
    m = _INCH_PIECE.match(text.replace("about ", ""))
    if m:
        return None, UnitSpec("inch", "count"), parse_amount(m.group(1)) or 1.0
    m = _QTY_UNIT.match(text)
    if not m:
        return None, None, 1.0
    qty = parse_amount(m.group(1)) or 1.0
    spec = _base_unit((m.group(2) or "").strip(" ."))
    if spec.canonical in MASS_G:
        return qty * MASS_G[spec.canonical], None, 1.0
    if spec.canonical in VOLUME_G:
        return qty * VOLUME_G[spec.canonical], None, 1.0
    if spec.kind == "count" and spec.canonical is not None:
        return None, spec, qty
    return None, None, 1.0


@lru_cache(maxsize=4096)
def parse_unit(unit: str | None) -> UnitSpec:
    """Normalise one upstream unit string. ``None``/``""`` → grams; unknown → ``UnitSpec(None, "unknown")``"""
    if unit is None:
        return UnitSpec("g", "mass")
    raw = unit.strip()
    if raw in ("T", "Tb", "TB", "Tbs", "TBS", "TBSP"):  # capital T is the tablespoon
        return UnitSpec("tbsp", "volume")
    if raw == "t":
        return UnitSpec("tsp", "volume")
    text = fold(raw).strip().rstrip(".")
    text = re.sub(r"\s+", " ", text)
    if not text:
        return UnitSpec("g", "mass")
    paren = re.search(r"\(([^)]*)\)", text)
    if paren:
        outer = (text[: paren.start()] + text[paren.end() :]).strip()
        base = _base_unit(outer)
        per_item, count_spec, count = _parenthetical_size(paren.group(1))
        if count_spec is not None:
            # "jar (about 60 leaves)" -> 60 leaves; "piece (2-inch)" -> 2 inches
            return UnitSpec(count_spec.canonical, "count", factor=count * base.factor)
        if base.canonical is None:
            return base
        if per_item is not None and base.kind == "count":
            return UnitSpec(base.canonical, "count", factor=base.factor, per_item_g=per_item)
        return base
    return _base_unit(text.replace(".", "").strip())


def _keyword_weight(table: Mapping[tuple[str, ...], float], words: tuple[str, ...]) -> float | None:
    """Weight of the longest keyword phrase found as contiguous whole words (rightmost on ties)."""
    best: tuple[int, int, float] | None = None
    n = len(words)
    for size in range(min(n, 4), 0, -1):
        for start in range(n - size, -1, -1):
            value = table.get(words[start : start + size])
            if value is not None:
                cand = (size, start, value)
                if best is None or cand[:2] > best[:2]:
                    best = cand
        if best is not None:
            return best[2]
    return None


def _item_weight(unit: str, name: str | None, ingredient: Ingredient | None, implied: str | None) -> float:
    default, by_kw, by_cat = _weights().units[unit]
    for text in (implied, name, ingredient.name if ingredient is not None else None):
        if text:
            words = singular_tokens(tokens(normalize_text(text)))
            found = _keyword_weight(by_kw, words)
            if found is not None:
                return found
    if ingredient is not None and ingredient.category in by_cat:
        return by_cat[ingredient.category]
    return default


def to_grams(
    amount: float | int | str | None,
    unit: str | None,
    ingredient: Ingredient | str | None = None,
    *,
    name: str | None = None,
) -> GramsResult:
    """Grams for ``amount`` ``unit`` of an ingredient.

    ``ingredient`` may be a catalog :class:`Ingredient` (used for per-item weights by name and category) or a
    plain name; ``name`` is the recipe line's own text, consulted first for per-item weights
    (``"chicken thighs"`` weighs less each than a whole ``chicken``).
    """
    ing: Ingredient | None = None
    if isinstance(ingredient, str):
        name = name or ingredient
    else:
        ing = ingredient
    qty: float | None
    if isinstance(amount, str):
        qty = parse_amount(amount)
    elif isinstance(amount, bool):
        qty = None
    else:
        qty = float(amount) if amount is not None else None
    if qty is None or not math.isfinite(qty) or qty <= 0:
        qty = 1.0  # domain.md §5: a missing or zero amount counts as 1
    spec = parse_unit(unit)
    if spec.canonical is None:
        return GramsResult(qty, None, False, "unknown", False)
    if spec.kind == "mass":
        return GramsResult(qty * MASS_G[spec.canonical] * spec.factor, spec.canonical, True, "mass")
    if spec.kind == "volume":
        approx = spec.canonical in ("pinch", "dash", "drop", "splash", "shot", "glass", "bottle")
        return GramsResult(
            qty * VOLUME_G[spec.canonical] * spec.factor, spec.canonical, True, "volume", approx
        )
    per_item = spec.per_item_g
    if per_item is None:
        per_item = _item_weight(spec.canonical, name, ing, spec.implied_item)
    return GramsResult(qty * per_item * spec.factor, spec.canonical, True, "count", True)
