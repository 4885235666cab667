"""Which applications may get tokens from the emulator's token endpoint.

Without a clients file the emulator is open: any application id (a GUID) with any non-empty
secret gets a token for any partner tenant, which is what a local test run wants. With one, only
the registered applications get tokens, with their own secret, for the tenants listed for them.

The file is JSON::

    {"clients": [
        {"clientId": "<guid>", "clientSecret": "<secret>", "tenants": ["<guid>", ...]}
    ]}

``tenants`` is optional (absent: any tenant).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from partnercart.server.domain.ids import is_guid


class ClientRejected(Exception):
    """The token endpoint refuses the client; the fields of the Entra ID-style error body."""

    def __init__(self, *, status: int, error: str, aadsts: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.aadsts = aadsts
        self.description = description


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


@dataclass(frozen=True, slots=True)
class RegisteredClient:
    client_id: str
    secret_digest: bytes
    tenants: frozenset[str] | None


class ClientRegistry:
    """``None`` clients means open mode (no file configured)."""

    def __init__(self, clients: dict[str, RegisteredClient] | None = None) -> None:
        self._clients = clients

    @property
    def open(self) -> bool:
        return self._clients is None

    @classmethod
    def load(cls, path: Path) -> ClientRegistry:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        entries = data.get("clients") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise ValueError(f"{path}: expected a JSON object with a 'clients' list")
        clients: dict[str, RegisteredClient] = {}
        for n, entry in enumerate(entries):
            where = f"{path}: clients[{n}]"
            if not isinstance(entry, dict):
                raise ValueError(f"{where} is not an object")
            client_id, secret = entry.get("clientId"), entry.get("clientSecret")
            if not isinstance(client_id, str) or not is_guid(client_id):
                raise ValueError(f"{where}.clientId must be a GUID")
            if not isinstance(secret, str) or not secret:
                raise ValueError(f"{where}.clientSecret must be a non-empty string")
            tenants = entry.get("tenants")
            allowed: frozenset[str] | None = None
            if tenants is not None:
                if not isinstance(tenants, list) or not all(
                    isinstance(t, str) and is_guid(t) for t in tenants
                ):
                    raise ValueError(f"{where}.tenants must be a list of GUIDs")
                allowed = frozenset(t.lower() for t in tenants)
            clients[client_id.lower()] = RegisteredClient(
                client_id.lower(), _digest(secret), allowed
            )
        return cls(clients)

    def check(self, *, client_id: str, secret: str, tenant_id: str) -> None:
        """Raise :class:`ClientRejected` unless this client may get a token for this tenant."""
        if not is_guid(client_id):
            raise ClientRejected(
                status=400,
                error="unauthorized_client",
                aadsts=700016,
                description=(
                    f"AADSTS700016: Application with identifier '{client_id[:64]}' was not found "
                    "in the directory: client_id must be the application (client) id, a GUID."
                ),
            )
        if not secret:
            raise ClientRejected(
                status=401,
                error="invalid_client",
                aadsts=7000218,
                description=(
                    "AADSTS7000218: The request body must contain the following parameter: "
                    "'client_assertion' or 'client_secret'."
                ),
            )
        if self._clients is None:
            return
        registered = self._clients.get(client_id.lower())
        # Compare a digest even for an unknown client, so the answer takes the same time.
        expected = registered.secret_digest if registered else _digest("\0unknown")
        secret_ok = hmac.compare_digest(expected, _digest(secret))
        if registered is None:
            raise ClientRejected(
                status=400,
                error="unauthorized_client",
                aadsts=700016,
                description=(
                    f"AADSTS700016: Application with identifier '{client_id}' was not found in "
                    "the directory (it is not in this server's clients file)."
                ),
            )
        if not secret_ok:
            raise ClientRejected(
                status=401,
                error="invalid_client",
                aadsts=7000215,
                description="AADSTS7000215: Invalid client secret provided.",
            )
        if registered.tenants is not None and tenant_id.lower() not in registered.tenants:
            raise ClientRejected(
                status=400,
                error="unauthorized_client",
                aadsts=700016,
                description=(
                    f"AADSTS700016: Application with identifier '{client_id}' was not found in "
                    f"the directory '{tenant_id}'."
                ),
            )
