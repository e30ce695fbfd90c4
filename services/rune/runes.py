"""The Elder Futhark data set (``shared/data/runes.json``): typed records, validation and name lookup.

Pure: the only I/O is reading the data file once (:func:`get_rune_set` caches it). Loading validates the
whole file and raises :class:`RuneDataError` on any defect, so a broken data file stops the service at
start instead of serving half a futhark.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import shared
from shared.alchemy.constants import ELEMENTS, PLANETS

__all__ = [
    "DATA_FILE",
    "Aett",
    "Rune",
    "RuneDataError",
    "RuneSet",
    "Spread",
    "SpreadPosition",
    "Theme",
    "get_rune_set",
    "load_rune_set",
    "normalize_name",
    "stem",
    "tokenize",
]

#: ``shared/data/runes.json`` located relative to the ``shared`` package (works from a checkout and a wheel).
DATA_FILE: Final[Path] = Path(shared.__file__).resolve().parent / "data" / "runes.json"

#: The first code point of the Runic block.
RUNIC_BLOCK: Final[range] = range(0x16A0, 0x1700)

#: Letters that NFKD leaves alone (Old Norse / Old English spellings of rune names).
_SPECIAL_LETTERS: Final = str.maketrans(
    {"þ": "th", "ð": "d", "æ": "ae", "œ": "oe", "ø": "o", "ß": "ss", "ł": "l", "đ": "d", "ı": "i"}
)
_NON_ALNUM: Final = re.compile(r"[^a-z0-9]+")
_TOKEN: Final = re.compile(r"[a-z0-9]+")
_APOSTROPHES: Final = re.compile(r"['’‘ʼ`]")


class RuneDataError(ValueError):
    """The rune data file is missing, malformed or inconsistent."""


# ── text helpers ─────────────────────────────────────────────────────────────────────────────────────────


def fold(text: str) -> str:
    """Lowercase, map Norse/English special letters, strip accents (NFKD, combining marks dropped)."""
    lowered = text.lower().translate(_SPECIAL_LETTERS)
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize_name(name: str) -> str:
    """Key for rune-name lookup: folded, letters and digits only, ``dh`` spelt ``d``.

    ``"Þurisaz"``, ``"thurisaz"`` and ``"THURISAZ"`` meet as ``"thurisaz"``; ``"Naudhiz"``, ``"Nauðiz"`` and
    ``"Naudiz"`` as ``"naudiz"``; ``"Raidhō"`` and ``"Raido"`` as ``"raido"``.
    """
    return _NON_ALNUM.sub("", fold(name)).replace("dh", "d")


def tokenize(text: str) -> list[str]:
    """Folded word tokens (apostrophes dropped first, so ``friend's`` → ``friends``)."""
    return _TOKEN.findall(_APOSTROPHES.sub("", fold(text)))


_VOWELS: Final = frozenset("aeiouy")


def stem(token: str) -> str:
    """A small, deterministic suffix stripper (documented in ``docs/runes.md``).

    In order: ``-ies``/``-ied`` → ``-y``; a plural ``-s`` (not after ``s``, ``u`` or ``i``); one of
    ``-ingly``, ``-edly``, ``-ing``, ``-ed``, ``-ly`` when at least three letters remain; a final ``-e``; a
    doubled final consonant other than ``l``, ``s``, ``z``. Keywords go through the same function, so a
    lexicon entry ``celebrate`` matches ``celebrates``, ``celebrated`` and ``celebrating``.
    """
    w = token
    if len(w) > 4 and (w.endswith("ies") or w.endswith("ied")):
        w = w[:-3] + "y"
    elif len(w) > 3 and w.endswith("s") and w[-2] not in "sui":
        w = w[:-1]
    for suffix in ("ingly", "edly", "ing", "ed", "ly"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)]
            break
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in _VOWELS and w[-1] not in "lsz":
        w = w[:-1]
    return w


# ── records ──────────────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Aett:
    key: str
    name: str
    number: int
    aliases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SpreadPosition:
    key: str
    name: str
    meaning: str


@dataclass(frozen=True, slots=True)
class Spread:
    count: int
    name: str
    description: str
    positions: tuple[SpreadPosition, ...]


@dataclass(frozen=True, slots=True)
class Theme:
    key: str
    label: str
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rune:
    """One Elder Futhark rune (fields as in the data file; see ``docs/runes.md``)."""

    position: int
    name: str
    glyph: str
    codepoint: str
    transliteration: str
    aett: str
    aett_name: str
    alternate_names: tuple[str, ...]
    literal: str
    reversible: bool
    meaning: str
    reversed_meaning: str | None
    keywords: tuple[str, ...]
    element: str
    planet: str
    correspondence: str
    culinary_guidance: str
    reversed_culinary_guidance: str | None
    recommended_elements: Mapping[str, float]
    recommended_ingredients: tuple[str, ...]
    themes: Mapping[str, float]
    poem_notes: str
    sources: str

    def meaning_for(self, reversed_: bool) -> str:
        return self.reversed_meaning if reversed_ and self.reversed_meaning else self.meaning

    def culinary_for(self, reversed_: bool) -> str:
        if reversed_ and self.reversed_culinary_guidance:
            return self.reversed_culinary_guidance
        return self.culinary_guidance


@dataclass(frozen=True, slots=True)
class RuneSet:
    """The validated data file."""

    runes: tuple[Rune, ...]
    aettir: tuple[Aett, ...]
    spreads: Mapping[int, Spread]
    themes: tuple[Theme, ...]
    context_guidance: Mapping[str, str]
    element_methods: Mapping[str, tuple[str, ...]]
    sources: tuple[str, ...]
    correspondence_set: str
    reversal_rule: str
    _by_name: Mapping[str, Rune] = field(repr=False)
    _aett_by_alias: Mapping[str, Aett] = field(repr=False)
    #: stemmed keyword → theme keys (lexicon order)
    stem_index: Mapping[str, tuple[str, ...]] = field(repr=False)

    def __len__(self) -> int:
        return len(self.runes)

    def find(self, name: str) -> Rune | None:
        """Rune by name, alternate spelling, glyph, code point (``U+16A0``) or futhark position (1–24)."""
        text = name.strip()
        if not text:
            return None
        if len(text) == 1 and ord(text) in RUNIC_BLOCK:
            return next((r for r in self.runes if r.glyph == text), None)
        if text.isdigit():
            pos = int(text)
            return self.runes[pos - 1] if 1 <= pos <= len(self.runes) else None
        upper = text.upper()
        if upper.startswith("U+"):
            return next((r for r in self.runes if r.codepoint == upper), None)
        return self._by_name.get(normalize_name(text))

    def aett(self, name: str) -> Aett | None:
        """Ætt by key or alias (``freyr``, ``Freyr's``, ``Heimdall``, ``3``…), ignoring case and accents."""
        return self._aett_by_alias.get(normalize_name(name.replace("ætt", "").replace("aett", "")))

    def theme(self, key: str) -> Theme:
        return next(t for t in self.themes if t.key == key)


# ── loading and validation ───────────────────────────────────────────────────────────────────────────────


def _req(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in obj:
        raise RuneDataError(f"{where}: missing {key!r}")
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise RuneDataError(f"{where}: {key!r} has the wrong type ({type(value).__name__})")
    return value


def _str_list(obj: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    values = _req(obj, key, list, where)
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise RuneDataError(f"{where}: {key!r} must be a list of non-empty strings")
    return tuple(values)


def _elements(raw: Mapping[str, Any], where: str) -> Mapping[str, float]:
    if set(raw) != set(ELEMENTS):
        raise RuneDataError(f"{where}: recommended_elements must have exactly {ELEMENTS}")
    values = {e: float(raw[e]) for e in ELEMENTS}
    if any(not math.isfinite(v) or v < 0 for v in values.values()):
        raise RuneDataError(f"{where}: recommended_elements must be finite and non-negative")
    total = sum(values.values())
    if abs(total - 1.0) > 1e-9:
        raise RuneDataError(f"{where}: recommended_elements must sum to 1 (got {total})")
    return MappingProxyType(values)


def _parse_rune(raw: Mapping[str, Any], index: int, aettir: Mapping[str, Aett], themes: set[str]) -> Rune:
    where = f"runes[{index}]"
    name = _req(raw, "name", str, where)
    where = f"rune {name}"
    position = _req(raw, "position", int, where)
    if position != index + 1:
        raise RuneDataError(f"{where}: position {position} out of futhark order (expected {index + 1})")
    glyph = _req(raw, "glyph", str, where)
    codepoint = _req(raw, "codepoint", str, where)
    if len(glyph) != 1 or ord(glyph) not in RUNIC_BLOCK:
        raise RuneDataError(f"{where}: glyph must be one character of the Runic block U+16A0–U+16FF")
    if codepoint != f"U+{ord(glyph):04X}":
        raise RuneDataError(f"{where}: codepoint {codepoint} does not match the glyph (U+{ord(glyph):04X})")
    if not unicodedata.name(glyph, "").startswith("RUNIC LETTER"):
        raise RuneDataError(f"{where}: glyph is not a runic letter")
    aett_key = _req(raw, "aett", str, where)
    if aett_key not in aettir:
        raise RuneDataError(f"{where}: unknown aett {aett_key!r}")
    expected_aett = list(aettir.values())[(position - 1) // 8]
    if aett_key != expected_aett.key:
        raise RuneDataError(
            f"{where}: position {position} belongs to {expected_aett.key!r}, not {aett_key!r}"
        )
    reversible = _req(raw, "reversible", bool, where)
    reversed_meaning = raw.get("reversed_meaning")
    reversed_culinary = raw.get("reversed_culinary_guidance")
    if reversible != isinstance(reversed_meaning, str) or reversible != isinstance(reversed_culinary, str):
        raise RuneDataError(f"{where}: reversed texts must be given exactly when the rune is reversible")
    element = _req(raw, "element", str, where)
    if element not in ELEMENTS:
        raise RuneDataError(f"{where}: element {element!r} not one of {ELEMENTS}")
    planet = _req(raw, "planet", str, where)
    if planet not in PLANETS:
        raise RuneDataError(f"{where}: planet {planet!r} not one of {PLANETS}")
    rec = _elements(_req(raw, "recommended_elements", dict, where), where)
    if max(rec, key=lambda e: (rec[e], -ELEMENTS.index(e))) != element:
        raise RuneDataError(f"{where}: the rune's element must carry the largest recommended weight")
    ingredients = _str_list(raw, "recommended_ingredients", where)
    if not 3 <= len(ingredients) <= 6:
        raise RuneDataError(f"{where}: give 3–6 recommended ingredients")
    rune_themes = _req(raw, "themes", dict, where)
    unknown = set(rune_themes) - themes
    if unknown:
        raise RuneDataError(f"{where}: unknown themes {sorted(unknown)}")
    if not rune_themes or any(not (0 < float(w) <= 1) for w in rune_themes.values()):
        raise RuneDataError(f"{where}: theme weights must be in (0, 1]")
    return Rune(
        position=position,
        name=name,
        glyph=glyph,
        codepoint=codepoint,
        transliteration=_req(raw, "transliteration", str, where),
        aett=aett_key,
        aett_name=aettir[aett_key].name,
        alternate_names=_str_list(raw, "alternate_names", where),
        literal=_req(raw, "literal", str, where),
        reversible=reversible,
        meaning=_req(raw, "meaning", str, where),
        reversed_meaning=reversed_meaning,
        keywords=_str_list(raw, "keywords", where),
        element=element,
        planet=planet,
        correspondence=_req(raw, "correspondence", str, where),
        culinary_guidance=_req(raw, "culinary_guidance", str, where),
        reversed_culinary_guidance=reversed_culinary,
        recommended_elements=rec,
        recommended_ingredients=ingredients,
        themes=MappingProxyType({k: float(v) for k, v in rune_themes.items()}),
        poem_notes=_req(raw, "poem_notes", str, where),
        sources=_req(raw, "sources", str, where),
    )


def _parse_spreads(raw: Mapping[str, Any]) -> Mapping[int, Spread]:
    spreads: dict[int, Spread] = {}
    for key, spec in raw.items():
        count = int(key)
        where = f"spreads[{key}]"
        positions = tuple(
            SpreadPosition(
                key=_req(p, "key", str, where),
                name=_req(p, "name", str, where),
                meaning=_req(p, "meaning", str, where),
            )
            for p in _req(spec, "positions", list, where)
        )
        if len(positions) != count or len({p.key for p in positions}) != count:
            raise RuneDataError(f"{where}: needs {count} positions with distinct keys")
        spreads[count] = Spread(
            count=count,
            name=_req(spec, "name", str, where),
            description=_req(spec, "description", str, where),
            positions=positions,
        )
    if set(spreads) != {1, 3, 9}:
        raise RuneDataError("spreads: expected exactly the 1-, 3- and 9-rune spreads")
    return MappingProxyType(dict(sorted(spreads.items())))


def parse_rune_set(doc: Mapping[str, Any]) -> RuneSet:
    """Validate a decoded data document into a :class:`RuneSet` (raises :class:`RuneDataError`)."""
    aettir = tuple(
        Aett(
            key=_req(a, "key", str, "aettir"),
            name=_req(a, "name", str, "aettir"),
            number=_req(a, "number", int, "aettir"),
            aliases=_str_list(a, "aliases", "aettir"),
        )
        for a in _req(doc, "aettir", list, "document")
    )
    if [a.number for a in aettir] != [1, 2, 3]:
        raise RuneDataError("aettir: expected three ættir numbered 1, 2, 3 in order")
    aett_map = {a.key: a for a in aettir}

    themes = tuple(
        Theme(
            key=key,
            label=_req(spec, "label", str, f"themes.{key}"),
            keywords=_str_list(spec, "keywords", key),
        )
        for key, spec in _req(doc, "themes", dict, "document").items()
    )
    theme_keys = {t.key for t in themes}
    stem_index: dict[str, list[str]] = {}
    for theme in themes:
        for keyword in theme.keywords:
            for token in tokenize(keyword):
                keys = stem_index.setdefault(stem(token), [])
                if theme.key not in keys:
                    keys.append(theme.key)

    raw_runes = _req(doc, "runes", list, "document")
    if len(raw_runes) != 24:
        raise RuneDataError(f"runes: the Elder Futhark has 24 runes, the file has {len(raw_runes)}")
    runes = tuple(_parse_rune(r, i, aett_map, theme_keys) for i, r in enumerate(raw_runes))
    if len({r.glyph for r in runes}) != 24:
        raise RuneDataError("runes: glyphs must be distinct")

    by_name: dict[str, Rune] = {}
    for rune in runes:
        for spelling in (rune.name, *rune.alternate_names):
            key = normalize_name(spelling)
            other = by_name.get(key)
            if other is not None and other is not rune:
                raise RuneDataError(f"rune name {spelling!r} is ambiguous ({other.name} and {rune.name})")
            by_name[key] = rune

    aett_alias: dict[str, Aett] = {}
    for aett in aettir:
        for alias in (aett.key, aett.name, *aett.aliases):
            aett_alias[normalize_name(alias.replace("ætt", "").replace("aett", ""))] = aett

    methods = {
        e: tuple(_str_list(_req(doc, "element_methods", dict, "document"), e, "element_methods"))
        for e in ELEMENTS
    }
    context = _req(doc, "context_guidance", dict, "document")
    if set(context) != {"cuisine", "recipe", "ingredient", "cooking_method"}:
        raise RuneDataError("context_guidance: expected cuisine, recipe, ingredient and cooking_method")

    return RuneSet(
        runes=runes,
        aettir=aettir,
        spreads=_parse_spreads(_req(doc, "spreads", dict, "document")),
        themes=themes,
        context_guidance=MappingProxyType(dict(context)),
        element_methods=MappingProxyType(methods),
        sources=_str_list(doc, "sources", "document"),
        correspondence_set=_req(doc, "correspondence_set", str, "document"),
        reversal_rule=_req(doc, "reversal_rule", str, "document"),
        _by_name=MappingProxyType(by_name),
        _aett_by_alias=MappingProxyType(aett_alias),
        stem_index=MappingProxyType({k: tuple(v) for k, v in stem_index.items()}),
    )


def load_rune_set(path: Path | None = None) -> RuneSet:
    """Read and validate the data file (default: :data:`DATA_FILE`)."""
    source = path or DATA_FILE
    try:
        doc = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RuneDataError(f"cannot read {source}: {exc}") from exc
    if not isinstance(doc, dict):
        raise RuneDataError(f"{source}: the document must be a JSON object")
    return parse_rune_set(doc)


@lru_cache(maxsize=1)
def get_rune_set() -> RuneSet:
    """The process-wide rune set, loaded once."""
    return load_rune_set()
