"""Checks of what people type: clear errors for hostile input, lower-cased addresses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.subscribers.validation import (
    InvalidInput,
    normalize_email,
    parse_ids,
    parse_int,
    parse_interest,
    parse_keywords,
    parse_seed_refs,
    parse_timezone,
)


def test_addresses_are_validated_and_lower_cased() -> None:
    assert normalize_email("  Ada.Lovelace@Example.ORG ") == "ada.lovelace@example.org"
    assert normalize_email("pasted@example.org\r\n") == "pasted@example.org"  # surrounding space only
    for bad in (
        "",
        "not-an-address",
        "a@",
        "@b.org",
        "a b@c.org",
        "a@b.org\r\nBcc: x@y.org",
        "a@b.org\nBcc: x@y.org",
        "x" * 300,
    ):
        with pytest.raises(InvalidInput) as err:
            normalize_email(bad)
        assert err.value.field == "email" and err.value.message


@given(st.text(max_size=80))
def test_no_accepted_address_contains_a_line_break(raw: str) -> None:
    try:
        value = normalize_email(raw)
    except InvalidInput:
        return
    assert "\r" not in value and "\n" not in value and value == value.lower() and len(value) <= 254


def test_keywords_and_interest() -> None:
    assert parse_keywords("KV cache, speculative decoding\nkv cache;  LoRA ") == [
        "KV cache",
        "speculative decoding",
        "LoRA",
    ]
    with pytest.raises(InvalidInput):
        parse_keywords(",".join(f"k{i}" for i in range(21)))
    with pytest.raises(InvalidInput):
        parse_keywords("x" * 61)
    assert parse_interest("  efficient   LLM inference\non phones ") == "efficient LLM inference on phones"
    assert parse_interest("   ") is None
    with pytest.raises(InvalidInput):
        parse_interest("x" * 501)
    with pytest.raises(InvalidInput):
        parse_interest("bell\x07")


def test_time_zone_numbers_ids_and_seed_references() -> None:
    assert parse_timezone("Europe/Berlin") == "Europe/Berlin"
    with pytest.raises(InvalidInput):
        parse_timezone("Mars/Olympus_Mons")
    assert parse_int("7", "send_hour", 0, 23) == 7
    for bad in ("24", "-1", "seven", "7.5"):
        with pytest.raises(InvalidInput):
            parse_int(bad, "send_hour", 0, 23)
    assert parse_ids(["3", "1", "3"], "topics", 5) == [3, 1]
    with pytest.raises(InvalidInput):
        parse_ids(["1", "<script>"], "topics", 5)
    assert parse_seed_refs(
        "2306.00978\nhttps://arxiv.org/abs/2208.07339v2, https://arxiv.org/pdf/2402.17764.pdf"
    ) == [
        "2306.00978",
        "2208.07339",
        "2402.17764",
    ]
    with pytest.raises(InvalidInput):
        parse_seed_refs("not a paper")
