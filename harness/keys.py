"""Local signing keys (the user EOA, a session key): never printed, logged or written unless asked.

A `LocalKey` shows only its address in repr/str. The private key leaves the object only
through `export_private_key()`, which callers use for a state file the user asked for
(written by `write_secret_file`, mode 0600).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from .errors import HarnessError
from .signatures import SECP256K1_N, address_of, private_key_bytes, sign_digest


class LocalKey:
    __slots__ = ("_key", "address")

    def __init__(self, private_key: bytes | str) -> None:
        self._key = private_key_bytes(private_key)
        self.address: str = address_of(self._key)

    @classmethod
    def generate(cls) -> LocalKey:
        while True:
            candidate = secrets.token_bytes(32)
            if 0 < int.from_bytes(candidate, "big") < SECP256K1_N:
                return cls(candidate)

    def sign_digest(self, digest: bytes) -> bytes:
        return sign_digest(self._key, digest)

    def export_private_key(self) -> str:
        """0x-hex private key, for a 0600 state file the user asked for. Never print it."""
        return "0x" + self._key.hex()

    def __repr__(self) -> str:
        return f"LocalKey(address={self.address}, private key hidden)"

    __str__ = __repr__

    def __reduce__(self) -> Any:  # no pickling of secrets by accident
        raise TypeError("LocalKey holds a private key and cannot be pickled")


def generate_session_key() -> LocalKey:
    """A fresh in-process session key (spec §4 step 1)."""
    return LocalKey.generate()


class SecretFileError(HarnessError):
    """A secrets file cannot be written safely where asked."""


def write_secret_file(path: str | Path, data: dict[str, Any]) -> Path:
    """Write JSON holding secrets, 0600 from the first byte (no umask window), never through a
    symlink: an existing symlink at `path` is refused (SecretFileError naming it); the data is
    written to a new file (O_CREAT|O_EXCL|O_NOFOLLOW, 0600) beside it, then renamed over `path`,
    so an existing regular file is replaced whole and nothing another link points at is
    touched."""
    p = Path(path)
    if p.is_symlink():
        raise SecretFileError(
            f"{p}: is a symlink; secrets are never written through a link (remove it or choose "
            "another path)"
        )
    temp = p.with_name(f".{p.name}.{secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(temp, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
            fh.write("\n")
        os.replace(temp, p)  # replaces a link or file at `p` itself, never its target
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return p
