"""Cooking-method normalisation onto the alchemy engine's multiplier keys.

``normalize_method("Pan-frying")`` → ``"frying"``; unknown strings give ``None`` (reported, never guessed).
The canonical keys are EXACTLY those of the engine's method-multiplier table (domain-analysis §1.5).

Rules, in order: fold accents and case, unify separators (``_``, ``-``, spaces); look the whole string up
in the alias table (canonical keys, verb/participle forms such as ``roast``/``roasted``, spellings and clear
variants); otherwise strip one leading qualifier (``slow``, ``quick``, ``pan``, ``oven``…) and look
again. Only same-technique spellings and clear variants are mapped; preparation steps without a multiplier
(assembling, mixing, layering, toasting, emulsifying…) stay unknown on purpose.
"""

from __future__ import annotations

import re
from functools import lru_cache

from shared.catalog.text import fold

__all__ = ["CANONICAL_METHODS", "METHOD_ALIASES", "normalize_method"]

CANONICAL_METHODS: tuple[str, ...] = (
    "grilling",
    "roasting",
    "baking",
    "broiling",
    "searing",
    "boiling",
    "steaming",
    "poaching",
    "simmering",
    "braising",
    "stewing",
    "stir-frying",
    "sauteing",
    "frying",
    "deep-frying",
    "fermenting",
    "pickling",
    "curing",
    "smoking",
    "blending",
    "pureeing",
    "whisking",
    "kneading",
    "rolling",
    "raw",
    "chopping",
    "slicing",
    "marinating",
)

# Keys are folded, separator-unified (single spaces). Values must be canonical keys.
METHOD_ALIASES: dict[str, str] = {
    # grilling — cooking on a grate over direct heat / flame
    "grill": "grilling",
    "grilled": "grilling",
    "charcoal grilling": "grilling",
    "charcoal grill": "grilling",
    "char grilling": "grilling",
    "chargrilling": "grilling",
    "flame grilling": "grilling",
    "barbecuing": "grilling",
    "barbecue": "grilling",
    "bbq": "grilling",
    "charring": "grilling",  # blackening over an open flame/grill (peppers, aubergines, corn)
    # roasting
    "roast": "roasting",
    "roasted": "roasting",
    "spit roasting": "roasting",
    "rotisserie": "roasting",
    "pan roasting": "roasting",
    "oven roasting": "roasting",
    # baking
    "bake": "baking",
    "baked": "baking",
    "blind baking": "baking",
    "oven baking": "baking",
    # broiling
    "broil": "broiling",
    "broiled": "broiling",
    "salamander": "broiling",
    "torching": "broiling",  # intense top-down heat that browns a surface (brûlée), like a broiler
    # searing
    "sear": "searing",
    "seared": "searing",
    "pan searing": "searing",
    "browning": "searing",  # browning meat = searing
    "blackening": "searing",
    # boiling
    "boil": "boiling",
    "boiled": "boiling",
    "parboiling": "boiling",
    "blanching": "boiling",  # a brief boil
    "blanch": "boiling",
    # steaming
    "steam": "steaming",
    "steamed": "steaming",
    # poaching
    "poach": "poaching",
    "poached": "poaching",
    # simmering
    "simmer": "simmering",
    "simmered": "simmering",
    "long simmering": "simmering",
    "reducing": "simmering",  # reducing a liquid is simmering it down
    "reduction": "simmering",
    # braising
    "braise": "braising",
    "braised": "braising",
    "pot roasting": "braising",
    "red cooking": "braising",
    "slow cooking": "braising",  # long, low, covered, moist-heat cooking
    "slow cooker": "braising",
    # stewing
    "stew": "stewing",
    "stewed": "stewing",
    # stir-frying
    "stir frying": "stir-frying",
    "stir fry": "stir-frying",
    "stir fried": "stir-frying",
    "stirfrying": "stir-frying",
    "stirfry": "stir-frying",
    "wok cooking": "stir-frying",
    "wok frying": "stir-frying",
    "wok searing": "stir-frying",  # high-heat wok tossing
    # sauteing
    "saute": "sauteing",
    "sauteing": "sauteing",
    "sauteed": "sauteing",
    "sauted": "sauteing",
    "pan sauteing": "sauteing",
    "sweating": "sauteing",
    # frying (pan / shallow)
    "fry": "frying",
    "fried": "frying",
    "pan frying": "frying",
    "pan fried": "frying",
    "pan fry": "frying",
    "shallow frying": "frying",
    "shallow fry": "frying",
    "flash frying": "frying",
    "paste frying": "frying",  # frying a spice paste in oil
    "griddling": "frying",  # cooking on a lightly oiled flat griddle
    "griddle": "frying",
    "dry frying": "frying",
    # deep-frying
    "deep frying": "deep-frying",
    "deep fry": "deep-frying",
    "deep fried": "deep-frying",
    "deep fat frying": "deep-frying",
    # fermenting
    "ferment": "fermenting",
    "fermented": "fermenting",
    "fermentation": "fermenting",
    "proofing": "fermenting",  # proofing dough is its yeast fermentation
    "proving": "fermenting",
    "yeasting": "fermenting",
    # pickling
    "pickle": "pickling",
    "pickled": "pickling",
    "quick pickling": "pickling",
    # curing
    "cure": "curing",
    "cured": "curing",
    "salt curing": "curing",
    "dry curing": "curing",
    # smoking
    "smoke": "smoking",
    "smoked": "smoking",
    "cold smoking": "smoking",
    "hot smoking": "smoking",
    # blending
    "blend": "blending",
    "blended": "blending",
    # pureeing
    "puree": "pureeing",
    "pureed": "pureeing",
    "pureeing": "pureeing",
    "mashing": "pureeing",  # a coarse purée
    "mash": "pureeing",
    "mashed": "pureeing",
    # whisking
    "whisk": "whisking",
    "whisked": "whisking",
    "whipping": "whisking",
    "whip": "whisking",
    "whipped": "whisking",
    "beating": "whisking",
    "creaming": "whisking",  # beating butter and sugar until aerated
    # kneading
    "knead": "kneading",
    "kneaded": "kneading",
    # rolling
    "roll": "rolling",
    "rolled": "rolling",
    "laminating": "rolling",  # repeated rolling and folding of dough
    "sheeting": "rolling",
    # raw
    "raw": "raw",
    "no cook": "raw",
    "no cooking": "raw",
    "uncooked": "raw",
    # chopping
    "chop": "chopping",
    "chopped": "chopping",
    "mincing": "chopping",
    "minced": "chopping",
    "dicing": "chopping",
    "diced": "chopping",
    "knife work": "chopping",
    # slicing
    "slice": "slicing",
    "sliced": "slicing",
    "julienning": "slicing",
    "shaving": "slicing",
    # marinating
    "marinate": "marinating",
    "marinated": "marinating",
    "marinade": "marinating",
    "macerating": "marinating",  # steeping fruit in sugar/liquid
    "brining": "marinating",  # soaking in a seasoned salt solution
}
for _key in CANONICAL_METHODS:
    METHOD_ALIASES.setdefault(_key.replace("-", " "), _key)

_QUALIFIERS = (
    "slow ",
    "quick ",
    "pan ",
    "oven ",
    "gently ",
    "light ",
    "lightly ",
    "gentle ",
    "hard ",
    "soft ",
)
_SEPARATORS = re.compile(r"[\s_\-/]+")


@lru_cache(maxsize=4096)
def normalize_method(value: str) -> str | None:
    """Canonical method key for an upstream method string, or None when it is not a known technique."""
    key = _SEPARATORS.sub(" ", fold(value)).strip(" .")
    if not key:
        return None
    found = METHOD_ALIASES.get(key)
    if found is not None:
        return found
    for qualifier in _QUALIFIERS:
        if key.startswith(qualifier):
            found = METHOD_ALIASES.get(key[len(qualifier) :])
            if found is not None:
                return found
    return None
