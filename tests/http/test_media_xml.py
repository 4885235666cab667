"""Content negotiation both ways: JSON and XML bodies in, Accept with q-values out, 406/415,
error bodies in the negotiated type, and hostile XML refused quickly."""

from __future__ import annotations

import time
from typing import Any

import pytest

from partnercart.schema import codec, xmlcodec
from partnercart.schema.cart import Cart
from partnercart.schema.common import ErrorBody
from partnercart.schema.customer import Customer, CustomerCollection
from partnercart.server.http.media import choose
from tests.conftest import Api, customer_body

CART_XML = (
    b'<Cart xmlns="http://schemas.datacontract.org/2004/07/Microsoft.Partner.Services.Carts.V1.Models"'
    b' xmlns:i="http://www.w3.org/2001/XMLSchema-instance"'
    b' xmlns:b="http://schemas.microsoft.com/2003/10/Serialization/Arrays">'
    b"<LineItems><CartLineItem>"
    b"<BillingCycle>Monthly</BillingCycle>"
    b"<CatalogItemId>CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS</CatalogItemId>"
    b"<FriendlyName>Caf\xc3\xa9 &amp; co</FriendlyName>"
    b"<Id>0</Id>"
    b"<Participants><Participant><Key>TransactionReseller</Key><Value>5357564</Value>"
    b"</Participant></Participants>"
    b"<ProvisioningContext><b:KeyValueOfstringstring><b:Key>Scope</b:Key>"
    b"<b:Value>shared</b:Value></b:KeyValueOfstringstring>"
    b'<b:KeyValueOfstringstring><b:Key>duration</b:Key><b:Value i:nil="true"/>'
    b"</b:KeyValueOfstringstring></ProvisioningContext>"
    b"<Quantity>2</Quantity><TermDuration>P1M</TermDuration>"
    b"</CartLineItem></LineItems></Cart>"
)
CART_JSON = {
    "lineItems": [
        {
            "id": 0,
            "catalogItemId": "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS",
            "friendlyName": "Café & co",
            "quantity": 2,
            "billingCycle": "monthly",
            "termDuration": "P1M",
            "participants": [{"key": "transaction_reseller", "value": "5357564"}],
            "provisioningContext": {"scope": "shared", "duration": None},
        }
    ]
}
SERVER_OWNED = (
    *("id", "creationTimestamp", "lastModifiedTimestamp", "expirationTimestamp"),
    *("links", "attributes"),
)


def carts_path(customer_id: str) -> str:
    return f"/v1/customers/{customer_id}/carts"


def fault(response: Any) -> ErrorBody:
    if "xml" in response.headers["content-type"]:
        return xmlcodec.decode_response(response.content, ErrorBody)
    return codec.decode_response(response.content, ErrorBody)


def comparable(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in SERVER_OWNED}


# --- request bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize("media", ["application/xml", "text/xml", "application/xml; charset=utf-8"])
def test_xml_request_body_creates_the_same_cart_as_json(api: Any, media: str) -> None:
    customer = api.new_customer()
    by_json = api.post(carts_path(customer), json=CART_JSON)
    by_xml = api.post(carts_path(customer), content=CART_XML, headers={"Content-Type": media})
    assert by_json.status_code == by_xml.status_code == 201, by_xml.text
    assert by_xml.headers["content-type"] == "application/json; charset=utf-8"
    assert comparable(by_xml.json()) == comparable(by_json.json())


@pytest.mark.parametrize("media", ["application/json", "text/json"])
@pytest.mark.parametrize("charset", ["utf-8", "utf-16", "iso-8859-1", None])
def test_json_request_body_honours_charset(api: Any, media: str, charset: str | None) -> None:
    customer = api.new_customer()
    text = codec.encode(CART_JSON).decode()
    header = media if charset is None else f"{media}; charset={charset}"
    body = text.encode(charset or "utf-8")
    response = api.post(carts_path(customer), content=body, headers={"Content-Type": header})
    assert response.status_code == 201, response.text
    assert response.json()["lineItems"][0]["friendlyName"] == "Café & co"


def test_xml_charset_parameter_wins_over_the_declaration(api: Any) -> None:
    customer = api.new_customer()
    text = '<?xml version="1.0" encoding="utf-8"?>' + CART_XML.decode()
    for header, body in [
        ("text/xml; charset=utf-16", text.encode("utf-16")),
        ("application/xml; charset=iso-8859-1", text.encode("iso-8859-1")),
        ("application/xml", text.replace("utf-8", "utf-16").encode("utf-16")),
    ]:
        response = api.post(carts_path(customer), content=body, headers={"Content-Type": header})
        assert response.status_code == 201, (header, response.text)
        assert response.json()["lineItems"][0]["friendlyName"] == "Café & co"


def test_body_not_readable_in_its_charset_is_400(api: Any) -> None:
    customer = api.new_customer()
    response = api.post(
        carts_path(customer),
        content=b'{"lineItems": [\xff]}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 400
    assert fault(response).code == 800002


@pytest.mark.parametrize(
    ("header", "needle"),
    [
        ("application/x-www-form-urlencoded", "form"),
        ("text/plain", "text/plain"),
        ("multipart/form-data; boundary=x", "multipart/form-data"),
        ("application/json; charset=klingon", "klingon"),
        # Codecs that are not text encodings, and a name Python's codec registry refuses:
        # each was a 500 before (found by probing Content-Type).
        ("application/json; charset=rot13", "rot13"),
        ("application/json; charset=base64", "base64"),
        ("text/json; charset=uu", "uu"),
        ("application/xml; charset=rot13", "rot13"),
        ("application/json; charset=utf-8\x00", "utf-8"),
    ],
)
def test_unsupported_request_media_is_415(api: Any, header: str, needle: str) -> None:
    customer = api.new_customer()
    response = api.post(
        carts_path(customer), content=b"lineItems=1", headers={"Content-Type": header}
    )
    assert response.status_code == 415
    body = fault(response)
    assert body.code == 800002
    assert needle in body.description


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "GZIP, identity"])
def test_compressed_request_bodies_are_415(api: Any, coding: str) -> None:
    """A body sent with a Content-Encoding is refused as such (RFC 9110 15.5.16), not read as
    JSON and refused as "invalid character at line 1, column 1"; nothing is created."""
    import gzip

    customer = api.new_customer()
    body = b'{"lineItems": []}'
    response = api.post(
        carts_path(customer),
        content=gzip.compress(body),
        headers={"Content-Type": "application/json", "Content-Encoding": coding},
    )
    assert response.status_code == 415, response.text
    assert "Content-Encoding" in fault(response).description
    checkout = api.post(
        f"{carts_path(customer)}/00000000-0000-0000-0000-000000000000/checkout",
        content=gzip.compress(b'"success"'),
        headers={"Content-Type": "application/json", "Content-Encoding": coding},
    )
    assert checkout.status_code == 415, checkout.text
    # identity is no coding at all.
    plain = api.post(
        carts_path(customer),
        content=body,
        headers={"Content-Type": "application/json", "Content-Encoding": "identity"},
    )
    assert plain.status_code == 201, plain.text


def test_xml_customer_create(api: Any) -> None:
    customer = codec.decode_request(_customer_json(), Customer)
    response = api.post(
        "/v1/customers", content=xmlcodec.encode(customer), headers={"Content-Type": "text/xml"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["companyProfile"]["domain"] == "xml.onmicrosoft.com"


def _customer_json() -> bytes:
    return codec.encode(
        {
            "companyProfile": {"domain": "xml.onmicrosoft.com"},
            "billingProfile": {
                "email": "a@b.example",
                "culture": "en-US",
                "language": "en",
                "companyName": "X",
                "defaultAddress": {"country": "US"},
            },
        }
    )


# --- responses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("", "application/json"),
        ("*/*", "application/json"),
        ("application/*", "application/json"),
        ("text/*", "text/json"),
        ("application/xml", "application/xml"),
        ("text/xml", "text/xml"),
        ("text/json", "text/json"),
        ("application/json;q=0.5, application/xml", "application/xml"),
        ("application/xml;q=0.9, application/json;q=0.95", "application/json"),
        ("application/xml, application/json", "application/xml"),
        ("application/json, application/xml", "application/json"),
        ("*/*;q=0.1, text/xml", "text/xml"),
        ("application/json;q=0, */*", "text/json"),
        ("application/json;q=0, text/json;q=0, */*", "application/xml"),
        ("text/*;q=0.3, application/xml;q=0.2", "text/json"),
        ("application/xml; charset=utf-8; q=0.8, image/png", "application/xml"),
        ("image/png", None),
        ("application/xml;q=0", None),
        ("application/xml;q=zero", None),
        ("application/xml;q=nan", None),
        ("application/xml;q=inf", "application/xml"),
        ("application/xml;q=-1", None),
        ("nonsense", None),
    ],
)
def test_accept_quality_values(accept: str | None, expected: str | None) -> None:
    assert choose(accept) == expected


@pytest.mark.parametrize("accept", ["application/xml", "text/xml"])
def test_cart_in_xml_round_trips_to_the_json(api: Any, accept: str) -> None:
    customer = api.new_customer()
    created = api.post(carts_path(customer), json=CART_JSON, headers={"Accept": accept})
    assert created.status_code == 201
    assert created.headers["content-type"] == f"{accept}; charset=utf-8"
    assert created.content.startswith(b"<Cart xmlns=")
    cart_id = xmlcodec.decode_response(created.content, Cart).id
    as_json = api.get(f"{carts_path(customer)}/{cart_id}")
    as_xml = api.get(f"{carts_path(customer)}/{cart_id}", headers={"Accept": accept})
    assert as_xml.status_code == 200
    assert codec.encode(xmlcodec.decode_response(as_xml.content, Cart)) == as_json.content
    assert codec.encode(xmlcodec.decode_response(created.content, Cart)) == as_json.content
    # PUT answers in XML too.
    replaced = api.put(
        f"{carts_path(customer)}/{cart_id}",
        content=CART_XML,
        headers={"Content-Type": "application/xml", "Accept": accept},
    )
    assert replaced.status_code == 201, replaced.text
    assert xmlcodec.decode_response(replaced.content, Cart).line_items[0].quantity == 2


def test_customers_in_xml(api: Any) -> None:
    customer = api.new_customer()
    one = api.get(f"/v1/customers/{customer}", headers={"Accept": "application/xml"})
    assert xmlcodec.decode_response(one.content, Customer).id == customer
    assert codec.encode(xmlcodec.decode_response(one.content, Customer)) == (
        api.get(f"/v1/customers/{customer}").content
    )
    listed = api.get("/v1/customers", headers={"Accept": "text/xml"})
    assert listed.content.startswith(b"<ResourceCollectionOfCustomer ")
    collection = xmlcodec.decode_response(listed.content, CustomerCollection)
    assert [c.id for c in collection.items] == [customer]


def test_json_fast_path_returns_the_stored_bytes(api: Any) -> None:
    customer = api.new_customer()
    created = api.post(carts_path(customer), json=CART_JSON)
    again = api.get(f"{carts_path(customer)}/{created.json()['id']}", headers={"Accept": "*/*"})
    assert again.content == created.content


def test_406_changes_nothing_and_answers_json(api: Any) -> None:
    response = api.post(
        "/v1/customers", json=customer_body(), headers={"Accept": "image/png, text/html"}
    )
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert fault(response).code == 800002
    assert "image/png" in fault(response).description
    assert api.get("/v1/customers").json()["totalCount"] == 0


@pytest.mark.parametrize("accept", ["application/xml", "text/xml"])
def test_error_bodies_follow_accept(api: Any, accept: str) -> None:
    customer = api.new_customer()
    missing = api.get(
        f"{carts_path(customer)}/00000000-0000-4000-8000-000000000000", headers={"Accept": accept}
    )
    assert missing.status_code == 404
    assert missing.headers["content-type"] == f"{accept}; charset=utf-8"
    assert missing.content.startswith(b"<ServiceFault xmlns=")
    assert fault(missing).code == 800008
    unauthenticated = api.client.get("/v1/customers", headers={"Accept": accept})
    assert unauthenticated.status_code == 401
    assert fault(unauthenticated).code == 800001
    bad = api.post(
        carts_path(customer),
        content=b"<Cart><LineItems><CartLineItem><Quantity>x</Quantity>"
        b"</CartLineItem></LineItems></Cart>",
        headers={"Content-Type": "application/xml", "Accept": accept},
    )
    assert bad.status_code == 400
    assert fault(bad).data == ["$.lineItems[0].quantity"]


def test_text_xml_cannot_carry_answers_json(api: Any) -> None:
    body = customer_body()
    body["billingProfile"]["companyName"] = "Bell\u0007 Inc"
    created = api.post("/v1/customers", json=body, headers={"Accept": "application/xml"})
    assert created.status_code == 201
    assert created.headers["content-type"] == "application/json; charset=utf-8"
    assert created.json()["billingProfile"]["companyName"] == "Bell\u0007 Inc"


# --- hostile XML ------------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Cart><LineItems><CartLineItem><CatalogItemId>&lol9;</CatalogItemId><Quantity>1</Quantity>
</CartLineItem></LineItems></Cart>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Cart [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Cart><LineItems><CartLineItem><CatalogItemId>&xxe;</CatalogItemId><Quantity>1</Quantity>
</CartLineItem></LineItems></Cart>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Cart SYSTEM "http://127.0.0.1:9/evil.dtd">
<Cart><LineItems/></Cart>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Cart [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd"> %remote;]>
<Cart><LineItems/></Cart>"""

QUADRATIC = (
    b'<?xml version="1.0"?><!DOCTYPE Cart [<!ENTITY a "'
    + b"x" * 50_000
    + b'">]><Cart><LineItems><CartLineItem><CatalogItemId>'
    + b"&a;" * 5_000
    + b"</CatalogItemId></CartLineItem></LineItems></Cart>"
)

UNDECLARED_ENTITY = b"<Cart><LineItems><CartLineItem><CatalogItemId>&xxe;</CatalogItemId>"
UNDECLARED_ENTITY += b"</CartLineItem></LineItems></Cart>"

DEEP = b"<Cart>" + b"<LineItems>" * 200 + b"</LineItems>" * 200 + b"</Cart>"
WIDE = b"<Cart><LineItems>" + b"<x/>" * 20_001 + b"</LineItems></Cart>"

HOSTILE = {
    "billion-laughs": (BILLION_LAUGHS, "document type declarations"),
    "xxe": (XXE, "document type declarations"),
    "external-dtd": (EXTERNAL_DTD, "document type declarations"),
    "parameter-entity": (PARAMETER_ENTITY, "document type declarations"),
    "quadratic-blowup": (QUADRATIC, "document type declarations"),
    "undeclared-entity": (UNDECLARED_ENTITY, "not well-formed"),
    "too-deep": (DEEP, "nested deeper than the limit of 64"),
    "too-many-elements": (WIDE, "more than the limit of 20000 elements"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
@pytest.mark.parametrize("media", ["application/xml", "text/xml"])
def test_hostile_xml_is_refused_quickly_with_400(api: Any, name: str, media: str) -> None:
    body, needle = HOSTILE[name]
    customer = api.new_customer()
    started = time.perf_counter()
    response = api.post(carts_path(customer), content=body, headers={"Content-Type": media})
    elapsed = time.perf_counter() - started
    print(f"{name} ({len(body)} bytes, {media}): {response.status_code} in {elapsed * 1000:.1f} ms")
    assert response.status_code == 400, response.text
    error = fault(response)
    assert error.code == 800002
    assert needle in error.description
    assert "root:" not in response.text  # nothing of /etc/passwd


def test_unexpected_errors_follow_accept(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from starlette.testclient import TestClient

    from partnercart.server.http.routes import customers

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(customers.customers, "list_customers", broken)
    client = TestClient(api.client.app, raise_server_exceptions=False)
    for accept, root in [("application/xml", b"<ServiceFault "), (None, b'{"code":800003')]:
        headers = api.headers({"Accept": accept} if accept else None)
        response = client.get("/v1/customers", headers=headers)
        assert response.status_code == 500
        assert response.content.startswith(root)


def test_throttled_answer_follows_accept(tmp_path: Any, clock: Any) -> None:
    from starlette.testclient import TestClient

    from partnercart.schema.common import ThrottleBody
    from partnercart.server.http.app import create_app
    from partnercart.server.runtime import build_runtime
    from partnercart.server.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", rate_limit=1, rate_window=60.0)
    runtime = build_runtime(settings, clock=clock)
    try:
        with TestClient(create_app(runtime)) as client:
            token = Api(client, runtime, "6a4b2d1e-0c3f-4e5a-9b8c-7d6e5f4a3b2c").token
            headers = {"Authorization": f"Bearer {token}", "Accept": "text/xml"}
            assert client.get("/v1/customers", headers=headers).status_code == 200
            throttled = client.get("/v1/customers", headers=headers)
            assert throttled.status_code == 429
            assert throttled.headers["content-type"] == "text/xml; charset=utf-8"
            assert throttled.content.startswith(b"<ThrottleFault xmlns=")
            body = xmlcodec.decode_response(throttled.content, ThrottleBody)
            assert body.status_code == 429
            assert int(throttled.headers["retry-after"]) >= 1
    finally:
        runtime.close()


def test_replayed_write_answers_in_the_negotiated_type(api: Any) -> None:
    from partnercart.server.domain.idempotency import REPLAY_HEADER

    customer = api.new_customer()
    headers = {"MS-RequestId": "7d1f0c2e-5b8a-4f3e-9c6d-2a1b0e9f8d7c", "Accept": "application/xml"}
    first = api.post(carts_path(customer), json=CART_JSON, headers=headers)
    again = api.post(carts_path(customer), json=CART_JSON, headers=headers)
    as_json = api.post(
        carts_path(customer), json=CART_JSON, headers={**headers, "Accept": "application/json"}
    )
    assert first.status_code == again.status_code == as_json.status_code == 201
    assert REPLAY_HEADER not in first.headers
    assert again.headers[REPLAY_HEADER] == as_json.headers[REPLAY_HEADER] == "true"
    assert again.content == first.content  # the same XML, byte for byte
    assert codec.encode(xmlcodec.decode_response(first.content, Cart)) == as_json.content


def test_stored_json_without_a_model_type_answers_json_not_500() -> None:
    from starlette.requests import Request

    from partnercart.server.http.media import render

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/v1/x",
        "query_string": b"",
        "headers": [(b"accept", b"application/xml")],
        "server": ("test", 80),
        "scheme": "http",
    }
    response = render(Request(scope), 200, b'{"a":1}')
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.body == b'{"a":1}'
    xml = render(Request(scope), 200, b'{"code":1,"description":"d"}', type_=ErrorBody)
    assert xml.body.startswith(b"<ServiceFault ")


def test_order_collections_are_named_like_the_customer_collection(api: Any) -> None:
    """ResourceCollection<T> of the reference (§2: O3, O4, O8) is ResourceCollectionOf<T> in
    XML, as for customers."""
    from partnercart.schema.order import (
        OrderCollection,
        ProvisioningStatusCollection,
        SubscriptionCollection,
    )

    customer = api.new_customer()
    line = {
        "catalogItemId": "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS",
        "quantity": 1,
        "termDuration": "P1M",
        "billingCycle": "monthly",
    }
    cart = api.post(f"/v1/customers/{customer}/carts", json={"lineItems": [line]}).json()
    done = api.post(f"/v1/customers/{customer}/carts/{cart['id']}/checkout")
    assert done.status_code == 201, done.text
    order = done.json()["orders"][0]["id"]
    xml = {"Accept": "application/xml"}
    for path, root, type_ in [
        ("orders", "ResourceCollectionOfOrder", OrderCollection),
        ("subscriptions", "ResourceCollectionOfSubscription", SubscriptionCollection),
        (
            f"orders/{order}/provisioningstatus",
            "ResourceCollectionOfOrderLineItemProvisioningStatus",
            ProvisioningStatusCollection,
        ),
    ]:
        answer = api.get(f"/v1/customers/{customer}/{path}", headers=xml)
        assert answer.status_code == 200, answer.text
        assert answer.content.startswith(f"<{root} ".encode()), answer.content[:80]
        assert (
            b'xmlns="http://schemas.datacontract.org/2004/07/Microsoft.Partner.Core.Collections"'
            in (answer.content[:300])
        )
        as_json = api.get(f"/v1/customers/{customer}/{path}").json()
        assert xmlcodec.decode_response(answer.content, type_).total_count == as_json["totalCount"]


def test_catalog_collections_are_named_like_the_other_collections(api: Any) -> None:
    """The catalog lists (reference §2, K1, K3, K5: collections of Product, Sku, Availability)
    are ResourceCollectionOf<T> in XML like every other list; they were ``<ProductCollection>``
    and the like in the contracts namespace, names no DataContract client would look for."""
    from partnercart.schema.catalog import (
        AvailabilityCollection,
        ProductCollection,
        SkuCollection,
    )

    customer = api.new_customer()
    xml = {"Accept": "application/xml"}
    sku = "/products/CFQ7TTC0LFLZ/skus/0002"
    for path, item, type_ in [
        ("/products?country=US&targetView=OnlineServices", "Product", ProductCollection),
        ("/products/CFQ7TTC0LFLZ/skus?country=US", "Sku", SkuCollection),
        (f"{sku}/availabilities?country=US", "Availability", AvailabilityCollection),
    ]:
        for prefix in ("/v1", f"/v1/customers/{customer}"):
            answer = api.get(prefix + path, headers=xml)
            assert answer.status_code == 200, answer.text
            root = f"ResourceCollectionOf{item}"
            assert answer.content.startswith(f"<{root} ".encode()), answer.content[:80]
            assert (
                b'xmlns="http://schemas.datacontract.org/2004/07/Microsoft.Partner.Core.Collections"'
                in answer.content[:300]
            )
            as_json = api.get(prefix + path).json()
            decoded = xmlcodec.decode_response(answer.content, type_)
            assert decoded.total_count == as_json["totalCount"] > 0
