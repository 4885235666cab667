"""The OpenAPI 3.1 document, generated from the wire models and the operations table.

Schemas come from :func:`msgspec.json.schema_components` over the same models the codecs use,
annotated with OpenAPI ``xml`` objects that say how :mod:`partnercart.schema.xmlcodec` writes
them (contract names, namespaces, PascalCase members, wrapped lists). Served without a token at
``GET /openapi.json`` and ``GET /v1/openapi.json``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import msgspec
import msgspec.inspect as mi
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from partnercart import __version__
from partnercart.schema import xmlcodec
from partnercart.schema.common import ErrorBody, ThrottleBody
from partnercart.server.http.operations import OPERATIONS, Operation

MEDIA_TYPES = ("application/json", "text/json", "application/xml", "text/xml")
REF = "#/components/schemas/{name}"

STATUS_TEXT = {
    200: "OK",
    201: "Created",
    400: "Bad request: the body, a parameter or a header cannot be read",
    401: "No valid bearer token",
    403: "The partner may not act on this resource",
    404: "Not found",
    406: "None of the media types in Accept can be produced",
    409: "Conflict with the resource's state or a concurrent request",
    412: "If-Match does not match the resource's current ETag",
    413: "The request body is larger than the limit",
    415: "Unsupported request media type or charset",
    422: "The MS-RequestId was already used for a different request",
    429: "Too many requests; retry after Retry-After seconds",
}

_IGNORED = (
    " A value that is empty, longer than {n} characters or not printable ASCII is ignored"
    " (the server then makes one up)."
)
HEADERS = (
    (
        "MS-RequestId",
        "A GUID per logical request; echoed on the response." + _IGNORED.format(n=128),
    ),
    (
        "MS-CorrelationId",
        "A GUID tying calls together; echoed on the response." + _IGNORED.format(n=128),
    ),
    ("MS-CV", "Correlation vector; the response carries it extended (a new one if unusable)."),
    (
        "X-Locale",
        "The caller's locale, e.g. en-US; echoed on the response. A value longer than 35"
        " characters or not printable ASCII is ignored (en-US).",
    ),
)

#: Header parameters an operation may name in ``request_headers``.
REQUEST_HEADERS = {
    "If-Match": "Replace only if the cart still has this ETag (as returned by GET or PUT).",
}
#: Response headers an operation may name in ``response_headers``.
RESPONSE_HEADERS = {
    "ETag": "The resource's version; send it back in If-Match to update safely.",
}

DESCRIPTION = """\
An open implementation of the Microsoft Partner Center cart, checkout and order REST API.

Every body can be sent and received as JSON (`application/json`, `text/json`) or XML
(`application/xml`, `text/xml`); responses follow `Accept` with quality values, JSON by default.
Request property names are matched case-insensitively and enum text in any spelling the .NET SDK
uses; responses use the camelCase names and enum text shown here. Errors carry the Partner
Center error body (`ServiceFault`), in the negotiated media type. See docs/wire-format.md.
"""


def _structs(types: Iterable[type]) -> dict[str, type]:
    """Every Struct class reachable from ``types``, by component name (the class name)."""
    found: dict[str, type] = {}

    def walk(t: mi.Type) -> None:
        if isinstance(t, mi.StructType):
            if t.cls.__name__ in found:
                return
            found[t.cls.__name__] = t.cls
            for field in t.fields:
                walk(field.type)
        elif isinstance(t, mi.Metadata):
            walk(t.type)
        elif isinstance(t, mi.UnionType):
            for inner in t.types:
                walk(inner)
        elif isinstance(t, mi.ListType | mi.VarTupleType | mi.SetType | mi.FrozenSetType):
            walk(t.item_type)
        elif isinstance(t, mi.DictType):
            walk(t.value_type)

    for type_ in types:
        walk(mi.type_info(type_))
    return found


def _rename(node: Any, names: dict[str, str]) -> Any:
    """Rewrite ``$ref``s from class names to contract names, in place."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            old = ref.rsplit("/", 1)[1]
            node["$ref"] = REF.format(name=names.get(old, old))
        for value in node.values():
            _rename(value, names)
    elif isinstance(node, list):
        for value in node:
            _rename(value, names)
    return node


def _xml_item(items: dict[str, Any]) -> None:
    ref = items.get("$ref")
    if isinstance(ref, str):
        return  # a contract: its element name is its component name, its namespace is on it
    kind = items.get("type")
    xsd = {"string": "string", "integer": "long", "number": "double", "boolean": "boolean"}
    name = xsd.get(kind, "anyType") if isinstance(kind, str) else "anyType"
    items["xml"] = {"name": name, "namespace": xmlcodec.ARRAYS}


def _contract_components(components: dict[str, Any], structs: dict[str, type]) -> dict[str, Any]:
    """Components named by data contract (``ServiceFault``, ``ResourceLinks``...), with OpenAPI
    ``xml`` objects for the DataContract shape: the namespace on each contract, PascalCase member
    names, wrapped lists. A component's name is its root element name."""
    contracts = {name: xmlcodec.contract_of(cls) for name, cls in structs.items()}
    names = {name: contract.name for name, contract in contracts.items()}
    if len(set(names.values())) != len(names):
        raise ValueError(f"two wire models share a contract name: {sorted(names.values())}")
    renamed: dict[str, Any] = {}
    for name, schema in components.items():
        contract = contracts.get(name)
        if contract is not None:
            schema["title"] = contract.name
            schema["xml"] = {"namespace": contract.namespace}
            for prop_name, prop in schema.get("properties", {}).items():
                prop["xml"] = {"name": xmlcodec.pascal(prop_name)}
                for branch in prop.get("anyOf", [prop]):
                    if branch.get("type") == "array":
                        prop["xml"]["wrapped"] = True
                        _xml_item(branch.setdefault("items", {}))
        renamed[names.get(name, name)] = _rename(schema, names)
    return renamed


def _content(schema: dict[str, Any]) -> dict[str, Any]:
    return {media: {"schema": schema} for media in MEDIA_TYPES}


def _ref(type_: type) -> dict[str, Any]:
    return {"$ref": REF.format(name=xmlcodec.contract_of(type_).name)}


def _parameters(operation: Operation) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "minLength": 1},
            "description": f"The {name.replace('_', ' ')}.",
        }
        for name in re.findall(r"{([^}]+)}", operation.path)
    ]
    params.extend(
        {
            "name": name,
            "in": "query",
            "required": name in operation.required_query,
            "schema": {"type": "string"},
            "description": text,
        }
        for name, text in operation.query
    )
    params.extend({"$ref": f"#/components/parameters/{name}"} for name, _ in HEADERS)
    params.extend({"$ref": f"#/components/parameters/{name}"} for name in operation.request_headers)
    return params


def _operation(operation: Operation) -> dict[str, Any]:
    success: dict[str, Any] = {
        "description": STATUS_TEXT.get(operation.status, "Success"),
        "content": _content(_ref(operation.response)),
    }
    if operation.response_headers:
        success["headers"] = {
            name: {"$ref": f"#/components/headers/{name}"} for name in operation.response_headers
        }
    responses: dict[str, Any] = {str(operation.status): success}
    for status in operation.errors:
        body = ThrottleBody if status == 429 else ErrorBody
        response: dict[str, Any] = {
            "description": STATUS_TEXT.get(status, "Error"),
            "content": _content(_ref(body)),
        }
        if status == 429:
            response["headers"] = {
                "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
            }
        responses[str(status)] = response
    spec: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "tags": [operation.tag],
        "parameters": _parameters(operation),
        "responses": responses,
    }
    if operation.description:
        spec["description"] = operation.description
    if operation.request is not None:
        schema = _ref(operation.request)
        if operation.request_required:
            # The model's own schema stays the one the answers use; the operation adds what
            # it requires on top (XML keeps the model's element name through the reference).
            schema = {"allOf": [schema], "required": list(operation.request_required)}
        spec["requestBody"] = {
            "required": not operation.body_optional,
            "content": _content(schema),
        }
    elif operation.string_body:
        spec["requestBody"] = {
            "required": not operation.body_optional,
            "content": _content({"type": ["string", "null"], "examples": ["success"]}),
        }
    return spec


def build_document(operations: Iterable[Operation] = OPERATIONS) -> dict[str, Any]:
    """The OpenAPI 3.1 document for ``operations``."""
    operations = tuple(operations)
    models: list[type] = [ErrorBody, ThrottleBody]
    for op in operations:
        for type_ in (op.request, op.response):
            if type_ is not None and type_ not in models:
                models.append(type_)
    _, components = msgspec.json.schema_components(models, ref_template=REF)
    components = _contract_components(components, _structs(models))
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "partnercart: Partner Center carts, checkout and orders",
            "version": __version__,
            "description": DESCRIPTION,
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "tags": [{"name": tag} for tag in dict.fromkeys(op.tag for op in operations)],
        "paths": paths,
        "components": {
            "schemas": components,
            "parameters": {
                name: {
                    "name": name,
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": text,
                }
                for name, text in (*HEADERS, *REQUEST_HEADERS.items())
            },
            "headers": {
                name: {"schema": {"type": "string"}, "description": text}
                for name, text in RESPONSE_HEADERS.items()
            },
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "An Entra ID-style access token for the partner tenant "
                    "(`partnercart token --tenant <guid>` in emulator mode).",
                }
            },
        },
        "security": [{"bearer": []}],
    }


async def openapi_json(request: Request) -> Response:
    state = request.app.state
    body: bytes | None = getattr(state, "openapi_body", None)
    if body is None:
        body = msgspec.json.encode(build_document())
        state.openapi_body = body
    return Response(body, media_type="application/json; charset=utf-8")


ROUTES = [
    Route("/openapi.json", openapi_json, methods=["GET"]),
    Route("/v1/openapi.json", openapi_json, methods=["GET"]),
]
