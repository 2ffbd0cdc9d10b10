"""Recognise credential material in strings: private keys, JWTs, high-entropy secrets.

Why: one detector serves the loader (site files must not carry secret values) and the
``validate`` scan of rendered trees, so both agree on what a credential looks like. Callers
get a reason, never the value, so no message can leak what it found.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

PRIVATE_KEY = re.compile(r"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----")
JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
#: Words that make a key secret-ish once the key is split into words (camelCase, _, -, .).
SECRET_WORDS = frozenset({"password", "passwd", "pwd", "secret", "token", "apikey", "credential",
                          "credentials", "passphrase", "bearer"})
#: Word pairs that do the same (``private_key``, ``api-key``, ``accessKey``...).
SECRET_PAIRS = frozenset({"privatekey", "apikey", "secretkey", "accesskey", "cryptkey", "authkey"})
#: Last words that name a reference or a place, not a value (``secret_ref``, ``token_file``).
NOT_A_VALUE = frozenset({"ref", "name", "names", "file", "path", "dir", "url", "claim", "service",
                         "type", "audience", "audiences", "endpoint", "scope", "margin", "seconds"})
TOKEN_CHARS = re.compile(r"^[A-Za-z0-9+/=_\-]{16,}$")
MIN_ENTROPY_BITS = 3.5
#: `key: value`, `key = value` and `"key": "value"` lines inside multi-line strings.
EMBEDDED_PAIR = re.compile(
    r"""^\s*["']?(?P<key>[A-Za-z][A-Za-z0-9_.-]*)["']?\s*[:=]\s*["']?(?P<value>[^\s"',]+)["']?,?\s*$""",
    re.MULTILINE,
)


def key_words(key: str) -> list[str]:
    """Lower-case words of a key: ``clientSecret`` → ``["client", "secret"]``."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(key))
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


@functools.lru_cache(maxsize=4096)
def _is_secretish_word_list(key: str) -> bool:
    words = key_words(key)
    if not words or words[-1] in NOT_A_VALUE:
        return False
    pairs = {a + b for a, b in itertools.pairwise(words)}
    return bool(SECRET_WORDS.intersection(words) or SECRET_PAIRS.intersection(pairs | set(words)))


def is_secretish_key(key: Any) -> bool:
    """True when a mapping key names a secret value (``password``, ``client_secret``...).

    A key whose last word names a reference or a place (``secret_ref``, ``token_file``) is not.
    Memoised: the same few hundred keys are asked about for every object of every site.
    """
    return _is_secretish_word_list(str(key))


def entropy_bits(text: str) -> float:
    """Shannon entropy per character."""
    if not text:
        return 0.0
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def is_high_entropy(value: str) -> bool:
    """True for token-like strings: 16+ token characters, letters and digits, high entropy."""
    return (
        bool(TOKEN_CHARS.match(value))
        and any(c.isdigit() for c in value)
        and any(c.isalpha() for c in value)
        and entropy_bits(value) >= MIN_ENTROPY_BITS
    )


def credential_reason(key: Any, value: Any) -> str | None:
    """Why `value` (found under `key`) looks like a credential, or None.

    The reason never contains the value.
    """
    if not isinstance(value, str):
        return None
    return _credential_reason(None if key is None else str(key), value)


@functools.lru_cache(maxsize=8192)
def _credential_reason(key: str | None, value: str) -> str | None:
    """Memoised: the same scripts and configs are scanned for every site of a fleet."""
    if PRIVATE_KEY.search(value):
        return "a private key block"
    if JWT.search(value):
        return "a JSON Web Token"
    if key is not None and is_secretish_key(key) and is_high_entropy(value.strip()):
        return f"a high-entropy value under the secret-like key {str(key)!r}"
    if "\n" in value:
        for match in EMBEDDED_PAIR.finditer(value):
            if is_secretish_key(match["key"]) and is_high_entropy(match["value"]):
                return f"a high-entropy value for {match['key']!r} in this text"
    return None


def walk(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Yield ``(path, reason)`` for every credential-looking string under `node`."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, (dict, list)):
                yield from walk(value, (*path, key))
                continue
            reason = credential_reason(key, value)
            if reason:
                yield (*path, key), reason
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, (dict, list)):
                yield from walk(value, (*path, index))
                continue
            reason = credential_reason(None, value)
            if reason:
                yield (*path, index), reason
