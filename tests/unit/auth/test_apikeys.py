from __future__ import annotations

import base64
import hashlib

from shared.auth.apikeys import (
    API_KEY_MARKER,
    digests_match,
    generate_api_key,
    hash_api_key,
    is_well_formed,
    looks_like_api_key,
)


def test_key_format_and_hash() -> None:
    new = generate_api_key()
    assert new.plaintext.startswith("sk_alchm_live_")
    body = new.plaintext[len(API_KEY_MARKER) :]
    assert len(body) == 43 and len(base64.urlsafe_b64decode(body + "=")) == 32
    assert new.key_hash == hashlib.sha256(new.plaintext.encode()).hexdigest() == hash_api_key(new.plaintext)
    assert new.prefix == new.plaintext[: len(API_KEY_MARKER) + 8] and new.prefix in new.plaintext
    assert is_well_formed(new.plaintext) and looks_like_api_key(new.plaintext)
    assert generate_api_key().plaintext != new.plaintext


def test_malformed_keys() -> None:
    good = generate_api_key().plaintext
    for bad in (good[:-1], good + "A", good.replace("sk_alchm_live_", "sk_alchm_test_"), good[:-1] + "!", ""):
        assert not is_well_formed(bad), bad


def test_digest_compare() -> None:
    h = hash_api_key("x")
    assert digests_match(h, hash_api_key("x")) and not digests_match(h, hash_api_key("y"))
