"""The emulator's identity provider: an Entra ID-style token endpoint, OpenID configuration and
JWKS. In external mode these routes answer 404: tokens come from the real issuer."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from partnercart.server.domain.errors import NotFound
from partnercart.server.domain.ids import is_guid
from partnercart.server.http import media
from partnercart.server.http.calls import runtime_of

SCOPE = "https://api.partnercenter.microsoft.com/.default"


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _emulator(request: Request) -> Any:
    runtime = runtime_of(request)
    if runtime.issuer is None or runtime.signing_key is None:
        raise NotFound("This server trusts an external identity provider; it issues no tokens.")
    return runtime


async def token(request: Request) -> Response:
    runtime = _emulator(request)
    tenant = request.path_params["tenant_id"]
    if not is_guid(tenant):
        return _oauth_error(400, "invalid_request", "The tenant must be a GUID (the partner id).")
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("application/x-www-form-urlencoded"):
        return _oauth_error(
            400, "invalid_request", "The token request must be application/x-www-form-urlencoded."
        )
    raw = await media.read_body(request)
    try:
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8"), strict_parsing=False).items()}
    except UnicodeDecodeError:
        return _oauth_error(400, "invalid_request", "The form is not UTF-8.")
    grant = form.get("grant_type")
    if grant != "client_credentials":
        return _oauth_error(
            400, "unsupported_grant_type", "Only the client_credentials grant is supported."
        )
    client_id = form.get("client_id")
    secret = form.get("client_secret")
    if not client_id or not secret:
        return _oauth_error(401, "invalid_client", "client_id and client_secret are required.")
    scope = form.get("scope", "")
    if SCOPE not in scope.split():
        return _oauth_error(400, "invalid_scope", f"The scope must be {SCOPE}.")
    user_oid = form.get("user_oid")
    upn = form.get("upn")
    now = runtime.wall_clock.now()
    access = runtime.issuer.issue(
        tenant_id=tenant.lower(), client_id=client_id, now=now, user_oid=user_oid, upn=upn
    )
    lifetime = int(runtime.issuer.lifetime.total_seconds())
    return JSONResponse(
        {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": access,
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


async def jwks(request: Request) -> Response:
    runtime = _emulator(request)
    return JSONResponse({"keys": [runtime.signing_key.jwk()]})


async def openid_configuration(request: Request) -> Response:
    runtime = _emulator(request)
    tenant = request.path_params["tenant_id"]
    base = str(request.base_url).rstrip("/")
    return JSONResponse(
        {
            "issuer": runtime.settings.auth.issuer.replace("{tenantid}", tenant),
            "token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "grant_types_supported": ["client_credentials"],
            "response_types_supported": ["token"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["pairwise"],
        }
    )


ROUTES = [
    Route("/{tenant_id}/oauth2/v2.0/token", token, methods=["POST"]),
    Route("/{tenant_id}/v2.0/.well-known/openid-configuration", openid_configuration),
    Route("/discovery/v2.0/keys", jwks),
]
