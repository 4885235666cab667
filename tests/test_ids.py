"""The GUIDs the server makes: version 4's layout, ordered by the millisecond they were made."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable

from partnercart.server.domain.clock import ManualClock
from partnercart.server.domain.ids import RandomIds, SeededIds, ordered_uuid
from tests.conftest import Api
from tests.orders_helpers import ANNUAL, MONTHLY, checkout, new_cart

DELAY_S = 0.002  # more than the millisecond the ids are ordered by


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _parsed(text: str) -> uuid.UUID:
    parsed = uuid.UUID(text)
    assert str(parsed) == text  # lower case, 8-4-4-4-12
    assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
    return parsed


def test_an_ordered_id_starts_with_its_millisecond_and_is_random_after_it() -> None:
    moments = [0, 1, 255, 1_796_588_317_997, 1_796_588_317_998, 2**48 - 1]
    made = [ordered_uuid(now_ms=ms) for ms in moments]
    for ms, text in zip(moments, made, strict=True):
        parsed = _parsed(text)
        assert parsed.int >> 80 == ms
        assert text.replace("-", "")[:12] == f"{ms:012x}"
    assert sorted(made) == made
    # 74 random bits: ids of one millisecond do not repeat, and each random bit takes both values
    same = [uuid.UUID(ordered_uuid(now_ms=7)) for _ in range(5000)]
    assert len({u.int for u in same}) == len(same)
    random_mask = (1 << 80) - 1 & ~(0xF << 76) & ~(0b11 << 62)
    ones = 0
    zeros = 0
    for u in same:
        ones |= u.int & random_mask
        zeros |= ~u.int & random_mask
    assert ones == zeros == random_mask
    # without a moment, the clock's: made now, so between two readings of it
    before = _now_ms()
    now = uuid.UUID(RandomIds().uuid()).int >> 80
    assert before <= now <= _now_ms()


def test_seeded_ids_stay_random_and_repeatable() -> None:
    first = [SeededIds(3).uuid() for _ in range(2)]
    assert first[0] == first[1]
    stream = SeededIds(3)
    made = [stream.uuid() for _ in range(50)]
    for text in made:
        _parsed(text)
    assert sorted(made) != made  # no time order: the seed alone decides them


def _made_in_turn(make: Callable[[], str]) -> list[str]:
    """Three ids from ``make``, a few milliseconds apart, each checked to start with the
    millisecond it was made in."""
    made = []
    for _ in range(3):
        before = _now_ms()
        text = make()
        assert before <= _parsed(text).int >> 80 <= _now_ms()
        made.append(text)
        time.sleep(DELAY_S)
    assert sorted(made) == made
    return made


def test_the_ids_the_server_makes_sort_in_the_order_they_were_made(
    api: Api, clock: ManualClock
) -> None:
    customers = _made_in_turn(api.new_customer)
    customer = customers[0]
    carts = _made_in_turn(lambda: new_cart(api, customer, [MONTHLY, ANNUAL]))
    done = checkout(api, customer, carts[0])
    assert done.status_code == 201, done.text
    clock.advance(dt.timedelta(minutes=5))  # past the provisioning delay: lines get subscriptions
    subscriptions = []
    for order in done.json()["orders"]:
        got = api.get(f"/v1/customers/{customer}/orders/{order['id']}").json()
        subscriptions += [line["subscriptionId"] for line in got["lineItems"]]
    assert len(subscriptions) == 2
    for text in subscriptions:
        _parsed(text)
        assert text > carts[-1]  # made at checkout, after every cart above
