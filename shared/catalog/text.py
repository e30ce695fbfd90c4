"""Text helpers shared by the catalog modules: accent folding, slugs, tokens, singular forms.

Everything here is pure and deterministic; the resolver, the diet rules and the loader all normalise text
through these functions so that a catalog name and a recipe line meet in the same form.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = [
    "fold",
    "normalize_text",
    "singularize",
    "singular_tokens",
    "slugify",
    "tokens",
]

# Letters that NFKD does not decompose into ASCII + combining mark.
_SPECIAL_LETTERS = str.maketrans(
    {
        "đ": "d",
        "Đ": "D",
        "ø": "o",
        "Ø": "O",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ß": "ss",
        "ł": "l",
        "Ł": "L",
        "ı": "i",
        "‘": "'",
        "’": "'",
        "ʼ": "'",
        "“": '"',
        "”": '"',
        "–": "-",
        "—": "-",
        "½": " 1/2 ",
        "¼": " 1/4 ",
        "¾": " 3/4 ",
        "⅓": " 1/3 ",
        "⅔": " 2/3 ",
        "⅛": " 1/8 ",
    }
)


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lowercase, fold accents to ASCII (``"Niçoise crème"`` → ``"nicoise creme"``)."""
    text = text.translate(_SPECIAL_LETTERS)
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return ascii_text.lower()


_APOSTROPHE = re.compile(r"'s\b|'")
_NON_WORD = re.compile(r"[^a-z0-9/%. ]+")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=65536)
def normalize_text(text: str) -> str:
    """Canonical comparison form: folded, apostrophes dropped, punctuation → spaces, single spaces.

    ``"Bird's-Eye Chilies"`` → ``"bird eye chilies"``; ``"za'atar"`` → ``"zaatar"``. Slashes, dots and percent
    signs are kept (they carry fractions and alternatives) — callers that do not want them strip them.
    """
    text = fold(text).replace("&", " and ")
    text = _APOSTROPHE.sub("", text)
    text = _NON_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def slugify(text: str) -> str:
    """Catalog slug of a name: folded, apostrophes dropped, parenthetical notes dropped, ``_`` separators.

    ``"Kiwano (Horned Melon)"`` → ``"kiwano"``; ``"Niçoise olives"`` → ``"nicoise_olives"``;
    ``"za'atar"`` → ``"zaatar"``.
    """
    text = re.sub(r"\([^)]*\)", " ", fold(text))
    text = _APOSTROPHE.sub("", text)
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")


def tokens(text: str) -> list[str]:
    """Word tokens of already-normalised text (letters/digits; slashes and punctuation separate)."""
    return _WORD.findall(text)


# Words that look plural but are not (or must not be changed).
_INVARIANT = frozenset(
    {
        "asparagus",
        "bass",
        "hummus",
        "couscous",
        "citrus",
        "molasses",
        "swiss",
        "octopus",
        "cactus",
        "hibiscus",
        "lemongrass",
        "grass",
        "glass",
        "watercress",
        "cress",
        "series",
        "species",
        "chips",  # handled by the synonym table where it matters
        "oats",  # catalog uses "oats" as the name of the grain
        "grits",
        "greens",
        "less",
        "plus",
        "gas",
        "haricots",
        "verts",
        "jus",
        "anise",
        "molokhia",
        "tapas",
        "mezze",
        "mass",
        "pus",
        "bus",
        "yes",
        "has",
        "this",
        "is",
        "was",
        "its",
        "us",
    }
)
_IRREGULAR = {
    "leaves": "leaf",
    "loaves": "loaf",
    "halves": "half",
    "calves": "calf",
    "knives": "knife",
    "chilies": "chili",
    "chillies": "chilli",
    "cookies": "cookie",
    "pies": "pie",
    "brownies": "brownie",
    "smoothies": "smoothie",
    "veggies": "veggie",
    "goodies": "goodie",
    "calories": "calorie",
    "dumplings": "dumpling",
    "teeth": "tooth",
    "feet": "foot",
    "geese": "goose",
    "mice": "mouse",
    "children": "child",
    "shelves": "shelf",
    "scallopini": "scallopini",
    "ravioli": "ravioli",
    "spaghetti": "spaghetti",
    "gnocchi": "gnocchi",
    "tortillas": "tortilla",
    "peas": "pea",
    "doves": "dove",
    "cloves": "clove",
    "olives": "olive",
    "chives": "chive",
    "endives": "endive",
    "sieves": "sieve",
    "potatoes": "potato",
    "tomatoes": "tomato",
    "mangoes": "mango",
    "avocadoes": "avocado",
    "echoes": "echo",
    "heroes": "hero",
    "shoes": "shoe",
    "toes": "toe",
    "sloes": "sloe",
    "aloes": "aloe",
    "dates": "date",
    "grapes": "grape",
    "limes": "lime",
    "noodles": "noodle",
    "apples": "apple",
}


@lru_cache(maxsize=65536)
def singularize(word: str) -> str:
    """English singular of one lowercase token, conservative: unknown shapes are left alone."""
    if len(word) <= 3 or word in _INVARIANT or not word.isalpha():
        return word
    irregular = _IRREGULAR.get(word)
    if irregular is not None:
        return irregular
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("oes"):
        return word[:-2]
    if word.endswith(("ches", "shes", "xes", "zzes", "sses")):
        return word[:-2]
    if word.endswith(("ss", "us")) or word in ("pastis", "iris", "ibis", "chassis", "tamis", "anis"):
        return word
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def singular_tokens(words: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Each token singularised."""
    return tuple(map(singularize, words))
