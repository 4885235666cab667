"""Markets: the currency a customer's country buys in."""

from __future__ import annotations

from typing import NamedTuple


class Currency(NamedTuple):
    code: str
    symbol: str


_EUR = Currency("EUR", "€")
_MARKETS: dict[str, Currency] = {
    "US": Currency("USD", "US$"),
    "CA": Currency("CAD", "CA$"),
    "GB": Currency("GBP", "£"),
    "AU": Currency("AUD", "A$"),
    "JP": Currency("JPY", "¥"),
    "CH": Currency("CHF", "CHF"),
    "NO": Currency("NOK", "kr"),
    "SE": Currency("SEK", "kr"),
    "DK": Currency("DKK", "kr."),
    "PL": Currency("PLN", "zł"),
    "IN": Currency("INR", "₹"),
    "BR": Currency("BRL", "R$"),
}
EURO_AREA = frozenset(
    [
        "AT",
        "BE",
        "CY",
        "DE",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PT",
        "SI",
        "SK",
    ]
)
# EU and EFTA: where additional transaction resellers may be named.
EU_EFTA = EURO_AREA | frozenset(["BG", "CZ", "DK", "HU", "PL", "RO", "SE", "IS", "LI", "NO", "CH"])


def currency_for(country: str) -> Currency:
    """The currency of a market; euro-area countries buy in EUR, unknown ones in USD."""
    code = country.upper()
    if code in EURO_AREA:
        return _EUR
    return _MARKETS.get(code, _MARKETS["US"])
