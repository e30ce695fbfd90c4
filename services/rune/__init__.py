"""Rune service (:8002): Elder Futhark runes for the kitchen. See ``docs/runes.md``."""
