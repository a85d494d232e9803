"""DKIM signing (dkimpy): the signature covers the list headers RFC 8058 requires.

Signed last, over the exact bytes that go on the wire; relaxed/relaxed canonicalisation.
"""

from __future__ import annotations

import re
from pathlib import Path

import dkim

SIGNED_HEADERS = (
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "list-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "auto-submitted",
    "mime-version",
    "content-type",
)


class DkimError(ValueError):
    pass


def organizational_domain(domain: str) -> str:
    """The registrable part of a domain, approximated by its last two labels (three for co.uk-style)."""
    labels = domain.lower().rstrip(".").split(".")
    if (
        len(labels) >= 3
        and len(labels[-1]) == 2
        and labels[-2] in {"co", "com", "ac", "org", "net", "gov", "edu"}
    ):
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


class DkimSigner:
    def __init__(self, domain: str, selector: str, private_key: bytes) -> None:
        if not domain or not selector:
            raise DkimError("DKIM needs a domain and a selector")
        if b"PRIVATE KEY" not in private_key:
            raise DkimError("DKIM private key is not a PEM private key")
        self.domain = domain.lower()
        self.selector = selector
        self._key = private_key

    @classmethod
    def from_file(cls, domain: str, selector: str, path: str) -> DkimSigner:
        try:
            key = Path(path).read_bytes()
        except OSError as exc:
            raise DkimError(f"DKIM_PRIVATE_KEY_PATH: cannot read {path}: {exc.strerror}") from exc
        return cls(domain, selector, key)

    def check_alignment(self, from_address: str) -> None:
        """DMARC alignment: the signing domain must share the From address's organizational domain."""
        from_domain = from_address.rsplit("@", 1)[-1].lower()
        if organizational_domain(from_domain) != organizational_domain(self.domain):
            raise DkimError(
                f"DKIM_DOMAIN {self.domain} is not aligned with the From domain {from_domain} "
                "(DMARC would fail)"
            )

    def sign(self, raw: bytes) -> bytes:
        """`raw` with a DKIM-Signature header in front, covering the headers it has of SIGNED_HEADERS."""
        head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
        present = {m.group(1).lower() for m in re.finditer(r"^([A-Za-z0-9-]+):", head, re.M)}
        headers = [h.encode() for h in SIGNED_HEADERS if h in present]
        try:
            signature = dkim.sign(
                raw,
                self.selector.encode(),
                self.domain.encode(),
                self._key,
                include_headers=headers,
                canonicalize=(b"relaxed", b"relaxed"),
            )
        except dkim.DKIMException as exc:
            raise DkimError(f"DKIM signing failed: {exc}") from exc
        return signature + raw
