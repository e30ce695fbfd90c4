"""API keys: ``sk_alchm_live_`` + 32 random bytes in base64url (43 characters).

Only the SHA-256 of the whole key is stored (``api_keys.key_hash``, unique): a lookup by that hash is the
comparison (the database never sees the key, and timing reveals nothing about it); the stored and computed
digests are compared again with :func:`hmac.compare_digest`. ``prefix`` (the first 8 random characters
after the marker) is public and identifies a key in listings.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

API_KEY_MARKER = "sk_alchm_live_"
_BODY_LENGTH = 43  # base64url of 32 bytes, unpadded
_API_KEY_RE = re.compile(r"^sk_alchm_live_[A-Za-z0-9_-]{43}$")
PUBLIC_PREFIX_LENGTH = len(API_KEY_MARKER) + 8


@dataclass(frozen=True, slots=True)
class NewApiKey:
    plaintext: str
    prefix: str
    key_hash: str


def generate_api_key() -> NewApiKey:
    body = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")
    plaintext = API_KEY_MARKER + body
    return NewApiKey(
        plaintext=plaintext, prefix=plaintext[:PUBLIC_PREFIX_LENGTH], key_hash=hash_api_key(plaintext)
    )


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(API_KEY_MARKER)


def is_well_formed(key: str) -> bool:
    return len(key) == len(API_KEY_MARKER) + _BODY_LENGTH and _API_KEY_RE.match(key) is not None


def digests_match(stored_hex: str, computed_hex: str) -> bool:
    return hmac.compare_digest(stored_hex.encode("ascii"), computed_hex.encode("ascii"))
