"""The XML codec: JSON -> XML -> JSON round trips (property-based and golden files)."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partnercart.schema import codec, xmlcodec
from partnercart.schema.cart import (
    BillingCycle,
    Cart,
    CartError,
    CartLineItem,
    Participant,
    ParticipantType,
    Pricing,
    RenewsTo,
)
from partnercart.schema.codec import CodecError
from partnercart.schema.common import (
    Attributes,
    CollectionLinks,
    ErrorBody,
    Link,
    SelfLinks,
    ThrottleBody,
)
from partnercart.schema.customer import (
    Address,
    BillingProfile,
    CompanyProfile,
    Customer,
    CustomerCollection,
)
from partnercart.schema.order import CartCheckoutResult

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def pretty(xml: bytes) -> str:
    """Indent the codec's one-line output (which has no mixed content), for golden files."""
    tokens = re.findall(r"<[^>]+>|[^<]+", xml.decode())
    lines: list[str] = []
    depth = 0
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.startswith("</"):
            depth -= 1
            lines.append("  " * depth + token)
        elif token.endswith("/>"):
            lines.append("  " * depth + token)
        elif i + 2 < len(tokens) and not tokens[i + 1].startswith("<"):
            lines.append("  " * depth + token + tokens[i + 1] + tokens[i + 2])
            i += 2
        elif i + 1 < len(tokens) and tokens[i + 1].startswith("</"):
            lines.append("  " * depth + token + tokens[i + 1])
            i += 1
        else:
            lines.append("  " * depth + token)
            depth += 1
        i += 1
    return "\n".join(lines) + "\n"


CASES = [
    ("cart", Cart),
    ("cart-full", Cart),
    ("cart-checkout-result", CartCheckoutResult),
    ("service-fault", ErrorBody),
]


@pytest.mark.parametrize(("name", "type_"), CASES)
def test_golden_xml(name: str, type_: type[Any]) -> None:
    json_bytes = (GOLDEN / f"{name}.json").read_bytes()
    model = codec.decode_response(json_bytes, type_)
    xml = xmlcodec.encode(model)
    golden = GOLDEN / f"{name}.xml"
    assert pretty(xml) == golden.read_text()
    # The indented golden file reads back to the same model, and so does the compact form.
    for form in (golden.read_bytes(), xml):
        back = xmlcodec.decode_response(form, type_)
        assert codec.encode(back) == codec.encode(model)


def test_golden_namespaces_and_root_names() -> None:
    cart = (GOLDEN / "cart.xml").read_text()
    assert cart.startswith(
        '<Cart xmlns="http://schemas.datacontract.org/2004/07/'
        'Microsoft.Partner.Services.Carts.V1.Models" '
        'xmlns:i="http://www.w3.org/2001/XMLSchema-instance"'
    )
    assert (
        (GOLDEN / "cart-checkout-result.xml")
        .read_text()
        .startswith(
            '<CartCheckoutResult xmlns="http://schemas.datacontract.org/2004/07/'
            'Microsoft.Partner.Sdk.Contracts.V1.Contracts.Orders"'
        )
    )
    assert (
        (GOLDEN / "service-fault.xml")
        .read_text()
        .startswith(
            '<ServiceFault xmlns="http://schemas.datacontract.org/2004/07/'
            'Microsoft.Marketplace.Services.Core"'
        )
    )


def test_members_are_pascal_case_in_ordinal_order() -> None:
    xml = xmlcodec.encode(
        Cart(line_items=[], id="c", status=None, partner_on_record_attestation_accepted=True)
    ).decode()
    names = re.findall(r"<([A-Za-z:]+)[ />]", xml)[1:]
    assert names == ["Id", "LineItems", "PartnerOnRecordAttestationAccepted"]


def test_null_is_nil_and_empty_collections_are_empty_elements() -> None:
    line = CartLineItem(catalog_item_id="a", quantity=1, provisioning_context={"scope": None})
    xml = xmlcodec.encode(Cart(line_items=[line])).decode()
    assert re.search(r'<(\w):Key>scope</\1:Key><\1:Value i:nil="true"/>', xml)
    assert "<LineItems><CartLineItem>" in xml
    empty = xmlcodec.encode(Cart(line_items=[])).decode()
    assert "<LineItems/>" in empty


def test_request_reading_is_lenient_like_json() -> None:
    body = b"""<cart xmlns="urn:anything"><LINEITEMS><CartLineItem>
        <catalogitemid>A:B:C</catalogitemid><Quantity> 3 </Quantity>
        <BillingCycle>OneTime</BillingCycle><Id>1</Id><Unknown>x</Unknown>
        </CartLineItem></LINEITEMS><Id>client-chosen</Id></cart>"""
    cart = xmlcodec.decode_request(body, Cart)
    assert cart.id is None  # server-owned, dropped as in JSON
    assert cart.line_items[0].billing_cycle is BillingCycle.ONE_TIME
    assert cart.line_items[0].quantity == 3


def test_dictionaries_read_in_either_form() -> None:
    items = (
        "<ProvisioningContext><KeyValueOfstringstring><Key>Scope</Key><Value>shared</Value>"
        "</KeyValueOfstringstring><item><key>duration</key></item>"
        "<SubscriptionId>abc</SubscriptionId><entitlementId/></ProvisioningContext>"
    )
    body = f"<Cart><LineItems><CartLineItem>{LINE}{items}</CartLineItem></LineItems></Cart>"
    line = xmlcodec.decode_request(body.encode(), Cart).line_items[0]
    assert line.provisioning_context == {
        "scope": "shared",
        "duration": None,
        "subscriptionId": "abc",
        "entitlementId": "",
    }
    broken = body.replace("<Key>Scope</Key>", "")
    with pytest.raises(CodecError) as info:
        xmlcodec.decode_request(broken.encode(), Cart)
    assert info.value.path == "$.lineItems[0].provisioningContext"


def test_request_errors_name_the_path() -> None:
    body = b"<Cart><LineItems><CartLineItem><CatalogItemId>a</CatalogItemId>"
    body += b"<Quantity>many</Quantity></CartLineItem></LineItems></Cart>"
    with pytest.raises(CodecError) as info:
        xmlcodec.decode_request(body, Cart)
    assert info.value.path == "$.lineItems[0].quantity"
    missing = b"<Cart><LineItems><CartLineItem><Quantity>1</Quantity>"
    missing += b"</CartLineItem></LineItems></Cart>"
    with pytest.raises(CodecError) as info:
        xmlcodec.decode_request(missing, Cart)
    assert info.value.path == "$.lineItems[0].catalogItemId"
    with pytest.raises(CodecError) as info:
        xmlcodec.decode_request(b"<Customer/>", Cart)
    assert "expected <Cart>" in info.value.message
    with pytest.raises(CodecError) as info:
        xmlcodec.decode_request(b"<Cart><LineItems>x</LineItems></Cart>", Cart)
    assert info.value.path == "$.lineItems"


LINE = "<CatalogItemId>a</CatalogItemId><Quantity>1</Quantity>"


def _line_body(inner: str) -> bytes:
    return f"<Cart><LineItems><CartLineItem>{inner}</CartLineItem></LineItems></Cart>".encode()


@pytest.mark.parametrize(
    "body",
    [
        # Each of these was a 500 or was read more leniently than JSON reads numbers.
        (_line_body(f"<CatalogItemId>a</CatalogItemId><Quantity>{'9' * 5000}</Quantity>")),
        (_line_body("<CatalogItemId>a</CatalogItemId><Quantity>1_000</Quantity>")),
        (_line_body("<CatalogItemId>a</CatalogItemId><Quantity>\u0661</Quantity>")),
        (_line_body(f"{LINE}<Pricing><Price>1e999</Price></Pricing>")),
        (_line_body(f"{LINE}<Pricing><Price>nan</Price></Pricing>")),
        (_line_body(f"{LINE}<Pricing><Price>Infinity</Price></Pricing>")),
        (_line_body(f"{LINE}<Pricing><Price>1_0</Price></Pricing>")),
        (b'<?xml version="1.0" encoding="klingon"?><Cart/>'),
        (b'<?xml version="1.0" encoding="rot13"?><Cart/>'),
    ],
)
def test_unreadable_values_are_codec_errors(body: bytes) -> None:
    with pytest.raises(CodecError) as info:
        xmlcodec.decode_request(body, Cart)
    assert len(info.value.message) < 300


def test_xinclude_is_not_processed() -> None:
    body = _line_body(
        '<CatalogItemId xmlns:xi="http://www.w3.org/2001/XInclude">'
        '<xi:include href="file:///etc/passwd" parse="text"/></CatalogItemId>'
        "<Quantity>1</Quantity>"
    )
    with pytest.raises(CodecError) as info:
        xmlcodec.decode_request(body, Cart)
    assert info.value.path == "$.lineItems[0].catalogItemId"
    assert "found child elements" in info.value.message


def test_numbers_in_xml_lexical_forms() -> None:
    cart = xmlcodec.decode_response(
        _line_body(
            "<CatalogItemId>a</CatalogItemId><Quantity> +7 </Quantity>"
            "<BillingCycle>4</BillingCycle><Pricing><Price>-1.5E2</Price><ListPrice>.5</ListPrice></Pricing>"
        ),
        Cart,
    )
    line = cart.line_items[0]
    assert line.quantity == 7
    assert line.billing_cycle is BillingCycle.ONE_TIME  # numeric enum value, as JSON allows
    assert line.pricing is not None
    assert (line.pricing.price, line.pricing.list_price) == (-150.0, 0.5)
    # An enum spelled with too many digits is unknown text, as in JSON (it was a 500).
    odd = xmlcodec.decode_request(
        _line_body(f"{LINE}<BillingCycle>{'9' * 5000}</BillingCycle>"), Cart
    )
    assert odd.line_items[0].billing_cycle is BillingCycle.UNKNOWN


def test_control_characters_cannot_be_encoded() -> None:
    with pytest.raises(xmlcodec.XmlEncodeError):
        xmlcodec.encode(ErrorBody(code=1, description="bell \x07"))


def test_carriage_return_survives() -> None:
    body = ErrorBody(code=1, description="a\r\nb\rc")
    assert xmlcodec.decode_response(xmlcodec.encode(body), ErrorBody) == body


# --- property: every model round-trips JSON -> XML -> JSON unchanged ---------------------------

xml_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)).filter(
        lambda c: xmlcodec._ILLEGAL.match(c) is None
    ),
    max_size=12,
)
int32 = st.integers(min_value=0, max_value=2_147_483_647)
int64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
finite = st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    st.none() | st.booleans() | int64 | finite | xml_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(xml_text, inner, max_size=3),
    max_leaves=8,
)
link = st.builds(Link, uri=xml_text, method=st.sampled_from(["GET", "POST"]))


def _opt(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


line_items = st.builds(
    CartLineItem,
    id=_opt(int32),
    catalog_item_id=xml_text,
    friendly_name=_opt(xml_text),
    quantity=int32,
    currency_code=_opt(xml_text),
    billing_cycle=_opt(st.sampled_from(BillingCycle)),
    term_duration=_opt(xml_text),
    participants=_opt(
        st.lists(st.builds(Participant, key=st.sampled_from(ParticipantType), value=xml_text))
    ),
    provisioning_context=_opt(st.dictionaries(xml_text, _opt(xml_text), max_size=3)),
    custom_term_end_date=_opt(st.datetimes(timezones=st.just(dt.UTC))),
    attestation_accepted=_opt(st.booleans()),
    renews_to=_opt(st.builds(RenewsTo, term_duration=_opt(xml_text))),
    pricing=_opt(st.builds(Pricing, list_price=_opt(finite), price=_opt(finite))),
    error=_opt(
        st.builds(
            CartError,
            error_code=int64,
            error_description=xml_text,
            additional_information=_opt(st.dictionaries(xml_text, json_values, max_size=3)),
        )
    ),
)
carts = st.builds(
    Cart,
    id=_opt(xml_text),
    line_items=st.lists(line_items, max_size=3),
    partner_on_record_attestation_accepted=_opt(st.booleans()),
    links=_opt(st.builds(SelfLinks, self=_opt(link))),
    attributes=_opt(st.builds(Attributes, object_type=xml_text, etag=_opt(xml_text))),
)
errors = st.builds(
    ErrorBody,
    code=int64,
    description=xml_text,
    data=st.lists(json_values, max_size=3),
    source=xml_text,
)


def _round_trip(model: Any) -> None:
    type_ = type(model)
    json_bytes = codec.encode(model)
    canonical = codec.decode_response(json_bytes, type_)
    xml = xmlcodec.encode(canonical)
    back = xmlcodec.decode_response(xml, type_)
    assert codec.encode(back) == codec.encode(canonical)


short_text = xml_text.filter(lambda t: len(t) <= 256)
nonempty = short_text.filter(bool)
addresses = st.builds(
    Address,
    country=st.from_regex(r"\A[A-Za-z]{2}\Z"),
    city=_opt(short_text),
    postal_code=_opt(short_text),
    address_line1=_opt(short_text),
)
customers = st.builds(
    Customer,
    id=_opt(xml_text),
    company_profile=st.builds(
        CompanyProfile,
        domain=st.from_regex(r"\A[a-z0-9]{2,10}(\.[a-z0-9]{2,10}){0,2}\Z"),
        company_name=_opt(short_text),
        links=_opt(st.builds(SelfLinks, self=_opt(link))),
    ),
    billing_profile=st.builds(
        BillingProfile,
        email=nonempty,
        culture=nonempty,
        language=nonempty,
        company_name=nonempty,
        default_address=addresses,
    ),
    relationship_to_partner=_opt(xml_text),
    allow_delegated_access=_opt(st.booleans()),
    attributes=_opt(st.builds(Attributes, object_type=xml_text)),
)


SETTINGS = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@SETTINGS
@given(carts)
def test_cart_round_trips(cart: Cart) -> None:
    _round_trip(cart)


@SETTINGS
@given(line_items)
def test_line_item_round_trips(line: CartLineItem) -> None:
    _round_trip(line)


@SETTINGS
@given(customers)
def test_customer_round_trips(customer: Customer) -> None:
    _round_trip(customer)


@SETTINGS
@given(st.lists(customers, max_size=3))
def test_customer_collection_round_trips(items: list[Customer]) -> None:
    _round_trip(
        CustomerCollection(
            total_count=len(items),
            items=items,
            links=CollectionLinks(self=Link(uri="/customers"), next=Link(uri="/customers?n=1")),
            attributes=Attributes(object_type="Collection"),
        )
    )


@SETTINGS
@given(errors)
def test_error_body_round_trips(body: ErrorBody) -> None:
    _round_trip(body)


@SETTINGS
@given(st.builds(ThrottleBody, status_code=int64, message=xml_text))
def test_throttle_body_round_trips(body: ThrottleBody) -> None:
    _round_trip(body)


def test_wire_format_doc_quotes_the_golden_files() -> None:
    doc = (GOLDEN.parents[1] / "docs" / "wire-format.md").read_text()
    for name in (
        "cart.json",
        "cart.xml",
        "cart-full.xml",
        "service-fault.json",
        "service-fault.xml",
    ):
        block = (GOLDEN / name).read_text().rstrip()
        assert f"```{name.rsplit('.', 1)[1]}\n{block}\n```" in doc, name


# --- any XML a client might send is a model or a CodecError (never anything else) ----------

_NAMES = sorted(
    {
        "Cart",
        "LineItems",
        "CartLineItem",
        "Id",
        "CatalogItemId",
        "Quantity",
        "BillingCycle",
        "Participants",
        "Participant",
        "Key",
        "Value",
        "ProvisioningContext",
        "KeyValueOfstringstring",
        "AddonItems",
        "RenewsTo",
        "TermDuration",
        "CustomTermEndDate",
        "AttestationAccepted",
        "PartnerOnRecordAttestationAccepted",
        "Error",
        "AdditionalInformation",
        "Pricing",
        "Price",
        "x",
    }
)
_ATTRIBUTE_VALUES = (
    "",
    ' i:nil="true"',
    ' i:nil="false"',
    ' i:type="x:long"',
    ' i:type="x:boolean"',
    ' i:type="a:ArrayOfanyType"',
    ' i:type="x:double"',
    ' i:type="b:string"',
)
_ATTRIBUTES = st.sampled_from(_ATTRIBUTE_VALUES)
_TEXT_VALUES = (
    *("", " ", "1", "-3", "0.5", "1e999", "9" * 30, "true", "null", "a", "&amp;", "&#13;"),
    *("monthly", "OneTime", "2027-01-01T00:00:00Z"),
)
_TEXTS = st.sampled_from(_TEXT_VALUES)


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda name, attrs, body: f"<{name}{attrs}>{body}</{name}>",
        st.sampled_from(_NAMES).map(lambda n: n if len(n) % 3 else n.lower()),
        _ATTRIBUTES,
        st.one_of(_TEXTS, st.lists(children, max_size=4).map("".join)),
    )


_trees = st.recursive(_TEXTS, _element, max_leaves=30)
_NS = (
    'xmlns:i="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:x="http://www.w3.org/2001/XMLSchema" '
    'xmlns:a="http://schemas.microsoft.com/2003/10/Serialization/Arrays" xmlns:b="urn:b"'
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.lists(_trees, max_size=5).map("".join))
def test_any_xml_body_is_a_model_or_a_codec_error(inner: str) -> None:
    for type_ in (Cart, CartLineItem, Customer, ErrorBody):
        root = xmlcodec.contract_of(type_).name
        body = f"<{root} {_NS}>{inner}</{root}>".encode()
        with contextlib.suppress(CodecError):
            xmlcodec.decode_request(body, type_)


_TEXT_NODE = re.compile(r">([^<]*)<")
_START_TAG = re.compile(r"<([A-Za-z][\w:]*)(?=[ >/])")


def _mutations(xml: str) -> list[str]:
    """Every text node replaced by every hostile text, every start tag given every attribute."""
    texts = list(_TEXT_NODE.finditer(xml))
    tags = list(_START_TAG.finditer(xml))[1:]
    out = [
        f"{xml[: node.start(1)]}{text}{xml[node.end(1) :]}"
        for node in texts
        for text in _TEXT_VALUES
    ]
    out += [
        f"{xml[: tag.end()]}{attribute}{xml[tag.end() :]}"
        for tag in tags
        for attribute in _ATTRIBUTE_VALUES
    ]
    return out


@pytest.mark.parametrize("name", ["cart", "cart-full"])
def test_mutated_cart_xml_is_a_model_or_a_codec_error(name: str) -> None:
    """The golden cart XML with each value and each attribute swapped for a hostile one."""
    xml = (GOLDEN / f"{name}.xml").read_text()
    mutations = _mutations(xml)
    assert len(mutations) > 100
    for mutated in mutations:
        with contextlib.suppress(CodecError):
            xmlcodec.decode_request(mutated.encode(), Cart)
