"""Receipt codes: long, random and easy to write down by hand; only their hash is stored.

25 Crockford base32 characters (125 random bits) in five groups of five, e.g. 7KQ2M-XR4PD-0B9TE-HW3NA-56CVF.
Crockford's alphabet has no I, L, O or U, and reading back maps the look-alikes (I/L -> 1, O -> 0),
so a code copied onto paper and typed in again still matches.
"""

from __future__ import annotations

import hashlib
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUPS = 5
GROUP_SIZE = 5
_LOOKALIKES = str.maketrans({"I": "1", "L": "1", "O": "0"})


def new_code() -> str:
    chars = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_SIZE))
    return "-".join(chars[i:i + GROUP_SIZE] for i in range(0, len(chars), GROUP_SIZE))


def normalise(code: str) -> str | None:
    """The canonical form of a typed code, or None when it cannot be one of ours."""
    compact = "".join(ch for ch in code.upper() if ch not in " -\t\n\r").translate(_LOOKALIKES)
    if len(compact) != GROUPS * GROUP_SIZE or any(ch not in ALPHABET for ch in compact):
        return None
    return "-".join(compact[i:i + GROUP_SIZE] for i in range(0, len(compact), GROUP_SIZE))


def hash_code(code: str) -> str | None:
    """SHA-256 of the normalised code; a 125-bit random code needs no slow hash."""
    canonical = normalise(code)
    if canonical is None:
        return None
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()
