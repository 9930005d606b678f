"""DKIM signatures (RFC 6376) at list speed: dkimpy's canonicalisation, OpenSSL's RSA.

dkimpy signs with its own pure-Python RSA: about 8 ms of one core per message, which caps a
signed send near 120 msg/s on two cores. Here the key is loaded once into `cryptography`
(OpenSSL, CRT, constant time) and only the RSA step moves there; canonicalisation and header
folding stay dkimpy's, so what verifiers see is exactly what dkimpy would have produced.
An Ed25519 signature (RFC 8463) can be added beside the RSA one for receivers that check it.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from dkim import fold
from dkim.canonicalization import CanonicalizationPolicy

# relaxed headers survive relays that refold them; a simple body is cheaper and our 7-bit
# quoted-printable or base64 lines give a relay no reason to rewrite it.
CANONICALIZATION = b"relaxed/simple"
_POLICY = CanonicalizationPolicy.from_c_value(CANONICALIZATION)
HEADER_NAME = b"DKIM-Signature"


class DkimKeyError(ValueError):
    """The configured key cannot be used for signing."""


def load_private_key(pem: bytes, *, source: str) -> rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey:
    """Parses a PEM key once per run; `source` names the setting and file in the error."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise DkimKeyError(f"{source} is not a PEM private key (unencrypted RSA or Ed25519)") from exc
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 1024:
            raise DkimKeyError(f"{source} is an RSA key of {key.key_size} bits: too short (receivers ignore < 1024)")
        return key
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    raise DkimKeyError(f"{source} is neither an RSA nor an Ed25519 key")


def _split(message: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Header fields as (name, value incl. folding and final CRLF) and the body, for a CRLF message."""
    head, _, body = message.partition(b"\r\n\r\n")
    fields: list[tuple[bytes, bytes]] = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, value + line + b"\r\n")
        else:
            name, _, value = line.partition(b":")
            fields.append((name, value + b"\r\n"))
    return fields, body


class DkimSigner:
    """Signs whole messages; one instance per run so the keys are parsed once."""

    def __init__(self, *, domain: str, selector: str, key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey,
                 ed25519_selector: str | None = None,
                 ed25519_key: ed25519.Ed25519PrivateKey | None = None) -> None:
        self.domain = domain.encode("ascii")
        self.selector = selector.encode("ascii")
        self.key = key
        self.ed25519_selector = ed25519_selector.encode("ascii") if ed25519_selector else None
        self.ed25519_key = ed25519_key

    @classmethod
    def from_files(cls, *, domain: str, selector: str, key_file: Path,
                   ed25519_selector: str | None = None, ed25519_key_file: Path | None = None) -> "DkimSigner":
        key = load_private_key(key_file.read_bytes(), source=f"NEWSLETTER_DKIM_KEY_FILE: {key_file}")
        ed_key = None
        if ed25519_key_file is not None:
            loaded = load_private_key(ed25519_key_file.read_bytes(),
                                      source=f"NEWSLETTER_DKIM_ED25519_KEY_FILE: {ed25519_key_file}")
            if not isinstance(loaded, ed25519.Ed25519PrivateKey):
                raise DkimKeyError(f"NEWSLETTER_DKIM_ED25519_KEY_FILE: {ed25519_key_file} is not an Ed25519 key")
            ed_key = loaded
        return cls(domain=domain, selector=selector, key=key,
                   ed25519_selector=ed25519_selector, ed25519_key=ed_key)

    def sign(self, message: bytes, include_headers: Sequence[bytes]) -> bytes:
        """The DKIM-Signature header field(s) to put before `message` (CRLF line ends).

        `include_headers` are lower-case names; each must occur once in the message (ours do),
        so the usual bottom-up selection of repeated fields is not needed.
        """
        fields, body = _split(message)
        body_hash = base64.b64encode(hashlib.sha256(_POLICY.canonicalize_body(body)).digest())
        present = {name.strip().lower(): (name, value) for name, value in fields}
        chosen = [present[h] for h in include_headers if h in present]
        canonical = b"".join(n + b":" + v for n, v in _POLICY.canonicalize_headers(chosen))
        timestamp = str(int(time.time())).encode("ascii")
        signed = b" : ".join(h for h in include_headers if h in present)  # spaces: places to fold
        out = b""
        if self.ed25519_key is not None and self.ed25519_selector is not None:
            out += self._field(b"ed25519-sha256", self.ed25519_selector, self.ed25519_key,
                               canonical, signed, body_hash, timestamp)
        out += self._field(b"ed25519-sha256" if isinstance(self.key, ed25519.Ed25519PrivateKey) else b"rsa-sha256",
                           self.selector, self.key, canonical, signed, body_hash, timestamp)
        return out

    def _field(self, algorithm: bytes, selector: bytes, key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey,
               canonical: bytes, signed: bytes, body_hash: bytes, timestamp: bytes) -> bytes:
        # As dkimpy does: a placeholder b= value forces b= onto a line of its own, so folding the
        # signed field again cannot move a fold in the tags before it (those are hashed).
        tags = [(b"v", b"1"), (b"a", algorithm), (b"c", CANONICALIZATION), (b"d", self.domain),
                (b"i", b"@" + self.domain), (b"q", b"dns/txt"), (b"s", selector), (b"t", timestamp),
                (b"h", signed), (b"bh", body_hash), (b"b", b"0" * 60)]
        placeholder = fold(b"; ".join(b"=".join(t) for t in tags), namelen=len(HEADER_NAME))
        unsigned = placeholder[:placeholder.rindex(b"b=") + 2]
        # The signature field itself is hashed canonicalised, with an empty b= and no final CRLF.
        (name, value), = _POLICY.canonicalize_headers([(HEADER_NAME, b" " + unsigned + b"\r\n")])
        data = canonical + name + b":" + value.rstrip(b"\r\n")
        if isinstance(key, rsa.RSAPrivateKey):
            signature = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        else:  # RFC 8463: Ed25519 signs the SHA-256 of the canonical data
            signature = key.sign(hashlib.sha256(data).digest())
        tags[-1] = (b"b", base64.b64encode(signature))
        return HEADER_NAME + b": " + fold(b"; ".join(b"=".join(t) for t in tags), namelen=len(HEADER_NAME)) + b"\r\n"
