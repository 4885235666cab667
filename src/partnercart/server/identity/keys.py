"""The emulator's signing key pair: made on first start, kept in the data directory."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def _b64(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True)
class SigningKey:
    private_pem: bytes
    public: rsa.RSAPublicKey
    kid: str

    @classmethod
    def generate(cls) -> SigningKey:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cls.from_pem(pem)

    @classmethod
    def from_pem(cls, pem: bytes) -> SigningKey:
        private = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(private, rsa.RSAPrivateKey):
            raise ValueError("the signing key must be an RSA private key")
        public = private.public_key()
        der = public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        kid = base64.urlsafe_b64encode(hashlib.sha256(der).digest()[:16]).rstrip(b"=").decode()
        return cls(private_pem=pem, public=public, kid=kid)

    @classmethod
    def load_or_create(cls, directory: Path) -> SigningKey:
        path = directory / "signing-key.pem"
        if path.exists():
            return cls.from_pem(path.read_bytes())
        key = cls.generate()
        return cls.from_pem(_create_private_file(path, key.private_pem))

    def jwk(self) -> dict[str, Any]:
        numbers = self.public.public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": _b64(numbers.n),
            "e": _b64(numbers.e),
        }


def _create_private_file(path: Path, content: bytes) -> bytes:
    """Write ``content`` to ``path`` (mode 0600) unless it exists; the content that is in the
    file afterwards. Several processes starting at once agree on the first one written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)
    try:
        # Another process may have won the race: link fails, and its file is the one.
        os.link(tmp, path)
    except FileExistsError:
        return path.read_bytes()
    finally:
        tmp.unlink()
    return content


ADMIN_KEY_FILE = "admin-key"


def admin_key_file(directory: Path) -> Path:
    return directory / ADMIN_KEY_FILE


def read_admin_key(directory: Path) -> str | None:
    """The admin key kept in ``directory`` (for tools on the server's machine), if any."""
    path = admin_key_file(directory)
    return path.read_text(encoding="ascii").strip() if path.exists() else None


def _new_admin_key() -> str:
    while True:  # one key in 64 starts with "-"
        key = secrets.token_urlsafe(32)
        if not key.startswith("-"):
            return key


def load_or_create_admin_key(directory: Path) -> str:
    """The control plane's admin key: read from ``<directory>/admin-key``, or made (random,
    256 bits, file mode 0600) on first start. A made key never starts with ``-``: a
    command line that takes it as the value of an option (pytest's ``--partnercart-admin-key
    KEY``, argparse's) would read it as another option."""
    path = directory / ADMIN_KEY_FILE
    if path.exists():
        text = path.read_text(encoding="ascii").strip()
    else:
        made = _new_admin_key().encode("ascii")
        text = _create_private_file(path, made + b"\n").decode("ascii").strip()
    if len(text) < 16:
        raise ValueError(f"the admin key in {path} is shorter than 16 characters")
    return text
