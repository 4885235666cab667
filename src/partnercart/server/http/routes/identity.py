"""The emulator's identity provider: an Entra ID-style token endpoint, OpenID configuration and
JWKS. In external mode these routes answer 404: tokens come from the real issuer.

The token endpoint speaks standard OAuth 2.0 client credentials (RFC 6749 section 4.4): a form
POST with ``grant_type=client_credentials``, the client authenticated by ``client_id`` and
``client_secret`` in the form or by HTTP Basic, and ``scope=<audience>/.default`` (v2 endpoint)
or ``resource=<audience>`` (v1 endpoint). Errors have Entra ID's shape: ``error``,
``error_description`` (starting with the AADSTS number where Entra ID has one), ``error_codes``,
``timestamp``, ``trace_id``, ``correlation_id``.

App+User tokens: Entra ID gives them only to interactive flows, which an unattended test cannot
run, so the emulator takes two extra form fields on the client-credentials grant: ``user_oid``
(the user's object id, a GUID) and/or ``upn`` (the user's sign-in name; without ``user_oid`` the
object id is derived from it, the same every time).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from partnercart.server.domain.errors import NotFound
from partnercart.server.domain.ids import is_guid
from partnercart.server.http import media
from partnercart.server.http.calls import runtime_of
from partnercart.server.identity.clients import ClientRejected
from partnercart.server.identity.keys import SigningKey
from partnercart.server.identity.tokens import TokenIssuer, user_object_id
from partnercart.server.runtime import Runtime

GRANT = "client_credentials"
MAX_FORM_FIELDS = 32
MAX_UPN_LENGTH = 256


class TokenRequestError(Exception):
    def __init__(
        self, status: int, error: str, description: str, aadsts: int | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.aadsts = aadsts
        self.basic_challenge = False


def _missing(name: str) -> TokenRequestError:
    return TokenRequestError(
        400,
        "invalid_request",
        f"AADSTS900144: The request body must contain the following parameter: '{name}'.",
        900144,
    )


def _oauth_error(request: Request, runtime: Runtime, failure: TokenRequestError) -> Response:
    state = request.scope.get("state", {})
    now = runtime.wall_clock.now().astimezone(dt.UTC)
    body: dict[str, Any] = {
        "error": failure.error,
        "error_description": failure.description,
        "error_codes": [failure.aadsts] if failure.aadsts is not None else [],
        "timestamp": now.strftime("%Y-%m-%d %H:%M:%SZ"),
        "trace_id": state.get("request_id", ""),
        "correlation_id": state.get("correlation_id", ""),
    }
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if failure.basic_challenge:
        headers["WWW-Authenticate"] = 'Basic realm="partnercart-token"'
    return JSONResponse(body, status_code=failure.status, headers=headers)


def _emulator(request: Request) -> tuple[Runtime, TokenIssuer, SigningKey]:
    runtime = runtime_of(request)
    if runtime.issuer is None or runtime.signing_key is None:
        raise NotFound("This server trusts an external identity provider; it issues no tokens.")
    return runtime, runtime.issuer, runtime.signing_key


def _tenant(request: Request) -> str:
    tenant: str = request.path_params["tenant_id"]
    if not is_guid(tenant):
        raise TokenRequestError(
            400,
            "invalid_request",
            f"AADSTS90002: Tenant '{tenant[:64]}' not found: the emulator names partner "
            "tenants by their id (a GUID).",
            90002,
        )
    return tenant.lower()


def _parse_form(raw: bytes) -> dict[str, str]:
    try:
        text = raw.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise TokenRequestError(
            400, "invalid_request", "The request body is not a UTF-8 form of at most 32 fields."
        ) from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise TokenRequestError(
                400, "invalid_request", f"The parameter '{name[:64]}' was sent more than once."
            )
        form[name] = value
    return form


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    """The client id and secret, from HTTP Basic (client_secret_basic) or the form
    (client_secret_post); never both."""
    header = request.headers.get("authorization")
    if header is None:
        client_id = form.get("client_id", "")
        if not client_id:
            raise _missing("client_id")
        if "client_assertion" in form:
            raise TokenRequestError(
                401,
                "invalid_client",
                "The emulator authenticates clients by client secret only; "
                "client_assertion (certificate credentials) is not supported.",
            )
        return client_id, form.get("client_secret", "")
    scheme, _, encoded = header.strip().partition(" ")
    failure = TokenRequestError(
        401, "invalid_client", "The Authorization header is not valid HTTP Basic client auth."
    )
    failure.basic_challenge = True
    if scheme.lower() != "basic":
        raise failure
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise failure from None
    raw_id, colon, raw_secret = decoded.partition(":")
    if not colon:
        raise failure
    if "client_secret" in form:
        raise TokenRequestError(
            400,
            "invalid_request",
            "The client authenticated twice (HTTP Basic and client_secret); use one.",
        )
    client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
    if form.get("client_id", client_id) != client_id:
        raise TokenRequestError(
            400, "invalid_request", "client_id in the form differs from the HTTP Basic one."
        )
    return client_id, secret


def _audience(form: dict[str, str], audiences: tuple[str, ...], *, v1: bool) -> str:
    """The API the token is for: ``scope=<audience>/.default`` (v2) or ``resource=`` (v1)."""
    if v1:
        resource = form.get("resource")
        if not resource:
            raise _missing("resource")
        if resource.rstrip("/") in audiences:
            return resource.rstrip("/")
        raise TokenRequestError(
            400,
            "invalid_resource",
            f"AADSTS500011: The resource principal named {resource[:128]} was not found; "
            f"this server issues tokens for {' or '.join(audiences)}.",
            500011,
        )
    scope = form.get("scope")
    if not scope:
        raise _missing("scope")
    scopes = scope.split()
    for audience in audiences:
        if f"{audience}/.default" in scopes:
            return audience
    wanted = f"{audiences[0]}/.default"
    if any(s.startswith(audiences) for s in scopes):
        raise TokenRequestError(
            400,
            "invalid_scope",
            f"AADSTS1002012: The provided value for scope {scope[:128]} is not valid. Client "
            "credential flows must have a scope value with /.default suffixed to the resource "
            f"identifier (application ID URI): {wanted}.",
            1002012,
        )
    raise TokenRequestError(
        400,
        "invalid_scope",
        f"AADSTS70011: The provided value for the input parameter 'scope' is not valid; this "
        f"server issues tokens for {wanted}.",
        70011,
    )


def _user(form: dict[str, str], tenant: str) -> tuple[str | None, str | None]:
    """The App+User extension: ``user_oid`` and/or ``upn``."""
    user_oid = form.get("user_oid") or None
    upn = form.get("upn") or None
    if user_oid is not None and not is_guid(user_oid):
        raise TokenRequestError(
            400, "invalid_request", "user_oid must be the user's object id, a GUID."
        )
    if upn is not None and (
        len(upn) > MAX_UPN_LENGTH
        or "@" not in upn
        or any(not (" " < c <= "~") for c in upn)  # printable ASCII, no spaces
    ):
        raise TokenRequestError(
            400, "invalid_request", "upn must be a sign-in name such as ada@contoso.example."
        )
    if user_oid is None and upn is not None:
        user_oid = user_object_id(tenant, upn)
    return (user_oid.lower() if user_oid else None), upn


async def _token(request: Request, *, v1: bool) -> Response:
    runtime, issuer, _key = _emulator(request)
    try:
        tenant = _tenant(request)
        content_type = request.headers.get("content-type", "")
        if not content_type.lower().startswith("application/x-www-form-urlencoded"):
            raise TokenRequestError(
                400,
                "invalid_request",
                "AADSTS900144: The request body must contain the following parameter: "
                "'grant_type' (send the request as application/x-www-form-urlencoded).",
                900144,
            )
        form = _parse_form(await media.read_body(request))
        grant = form.get("grant_type")
        if not grant:
            raise _missing("grant_type")
        if grant != GRANT:
            raise TokenRequestError(
                400,
                "unsupported_grant_type",
                f"AADSTS70003: The app requested an unsupported grant type '{grant[:64]}'; "
                "the emulator supports client_credentials.",
                70003,
            )
        client_id, secret = _client_credentials(request, form)
        try:
            runtime.clients.check(client_id=client_id, secret=secret, tenant_id=tenant)
        except ClientRejected as rejected:
            raise TokenRequestError(
                rejected.status, rejected.error, rejected.description, rejected.aadsts
            ) from None
        audience = _audience(form, runtime.settings.auth.audiences, v1=v1)
        user_oid, upn = _user(form, tenant)
    except TokenRequestError as failure:
        return _oauth_error(request, runtime, failure)
    now = runtime.wall_clock.now()
    access = issuer.issue(
        tenant_id=tenant,
        client_id=client_id.lower(),
        now=now,
        user_oid=user_oid,
        upn=upn,
        audience=audience,
    )
    lifetime = int(issuer.lifetime.total_seconds())
    body: dict[str, Any] = {
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access,
    }
    if v1:
        body.update(
            resource=audience,
            expires_on=str(int(now.timestamp()) + lifetime),
            not_before=str(int(now.timestamp())),
        )
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


async def token_v2(request: Request) -> Response:
    return await _token(request, v1=False)


async def token_v1(request: Request) -> Response:
    return await _token(request, v1=True)


async def jwks(request: Request) -> Response:
    _runtime, _issuer, key = _emulator(request)
    return JSONResponse({"keys": [key.jwk()]})


async def openid_configuration(request: Request) -> Response:
    runtime, _issuer, _key = _emulator(request)
    try:
        tenant = _tenant(request)
    except TokenRequestError as failure:
        return _oauth_error(request, runtime, failure)
    base = str(request.base_url).rstrip("/")
    return JSONResponse(
        {
            "issuer": runtime.settings.auth.issuer.replace("{tenantid}", tenant),
            "token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "grant_types_supported": [GRANT],
            "response_types_supported": ["token"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["pairwise"],
            "scopes_supported": [f"{a}/.default" for a in runtime.settings.auth.audiences],
        }
    )


ROUTES = [
    Route("/{tenant_id}/oauth2/v2.0/token", token_v2, methods=["POST"]),
    Route("/{tenant_id}/oauth2/token", token_v1, methods=["POST"]),
    Route("/{tenant_id}/v2.0/.well-known/openid-configuration", openid_configuration),
    Route("/discovery/v2.0/keys", jwks),
]
