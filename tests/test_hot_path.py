"""Helpers on every request's path, made cheap: they must still answer exactly as before."""

from __future__ import annotations

import base64
import json
import uuid

from partnercart.server.domain.carts import make_etag
from partnercart.server.domain.ids import is_guid
from tests.conftest import Api


def test_etag_is_the_compact_json_of_id_and_version() -> None:
    for cart_id in ("5d1c4d4f-0000-4000-8000-000000000001", 'odd"id\\é', ""):
        for version in (1, 42):
            expected = json.dumps({"id": cart_id, "version": version}, separators=(",", ":"))
            assert base64.b64decode(make_etag(cart_id, version)).decode() == expected


def test_is_guid_takes_the_36_character_form_only() -> None:
    assert is_guid("5D1C4D4F-0000-4000-8000-00000000000a")
    for text in (
        "5d1c4d4f00004000800000000000000a",
        "{5d1c4d4f-0000-4000-8000-00000000000a}",
        "5d1c4d4f-0000-4000-8000-00000000000g",
        "5d1c4d4f-0000-4000-8000-00000000000a\n",
        "5d1c4d4f0-000-4000-8000-00000000000a",
        "",
    ):
        assert not is_guid(text), text


def test_timestamps_have_seven_digits_in_utc() -> None:
    import datetime as dt

    from partnercart.schema.timefmt import format_timestamp

    plus_two = dt.timezone(dt.timedelta(hours=2))
    cases = {
        dt.datetime(2021, 8, 18, 17, 29, 52, 351749, tzinfo=dt.UTC): "2021-08-18T17:29:52.3517490Z",
        dt.datetime(2021, 8, 18, 17, 29, 52): "2021-08-18T17:29:52.0000000Z",
        dt.datetime(2021, 8, 19, 1, 0, 0, 1, tzinfo=plus_two): "2021-08-18T23:00:00.0000010Z",
        dt.datetime(999, 1, 2, tzinfo=dt.UTC): "0999-01-02T00:00:00.0000000Z",
    }
    for moment, text in cases.items():
        assert format_timestamp(moment) == text


def test_made_up_ids_are_version_4_guids_and_differ() -> None:
    from partnercart.server.http.middleware import trace_id

    made = [trace_id() for _ in range(2000)]
    assert len(set(made)) == len(made)
    for text in made:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


def test_negotiation_reads_the_accept_header_the_gateway_found(api: Api) -> None:
    """The first Accept header decides, as Starlette's header mapping would have it."""
    headers = [("Accept", "application/xml"), ("Accept", "application/json")]
    answer = api.client.get("/v1/customers", headers=api.headers() | dict(headers[:1]))
    assert answer.headers["content-type"].startswith("application/xml")
    answer = api.client.get(
        "/v1/customers",
        headers=[*api.headers().items(), *headers],
    )
    assert answer.headers["content-type"].startswith("application/xml")
    answer = api.client.get("/v1/customers", headers=api.headers() | {"Accept": "image/png"})
    assert answer.status_code == 406


def test_a_rendered_answer_has_its_headers_once() -> None:
    from partnercart.server.http.media import Rendered

    plain = Rendered(b'{"a":1}', 201, b"application/json; charset=utf-8", {"ETag": '"x"'})
    assert plain.status_code == 201
    assert plain.raw_headers == [
        (b"etag", b'"x"'),
        (b"content-length", b"7"),
        (b"content-type", b"application/json; charset=utf-8"),
    ]
    given = Rendered(b"<a/>", 200, b"application/json", {"Content-Type": "application/xml"})
    assert [v for k, v in given.raw_headers if k == b"content-type"] == [b"application/xml"]
    # As Starlette: no Content-Length on an answer that has no body by definition.
    assert "content-length" not in Rendered(b"", 204, b"text/plain").headers
