"""Mask phone numbers and e-mail addresses that visitors type, before anything is stored.

    mask_text("call me at (415) 249-2580 or jane@mail.com")  ->  "call me at [phone] or [email]"

The patterns aim at what people actually type in a chat box: US numbers in every common
layout (dashes, dots, spaces, parentheses, a leading 1 or +1, an extension), international
numbers written with a leading +, and e-mail addresses, including "jane at gmail dot com".
They deliberately leave alone what the clinic's conversations are full of: 988, 911, 741741,
years and dates, opening hours, "3 sessions", doses such as "0.5 mg/kg", prices and ranges.
Numbers spelled out in words ("four one five ...") are not recognised.

Only text the visitor typed is searched with the patterns (the clinic's own number in the
assistant's replies is not personal data). What the patterns found is then also replaced
wherever it reappears in the same conversation (a reply or a slot that echoes it).
"""

from __future__ import annotations

import re
from typing import Any, Iterable, List, Mapping, Set

from clinic.phone import international_phone, is_international_length, us_phone

PHONE = "[phone]"
EMAIL = "[email]"

# Dashes people paste from word processors count as separators too.
_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2015"
_SEP = f"[ .{_DASHES}\u00a0]?"
# Not glued to a word, to another number, to a date (3/15/...) or to a decimal (3.1415...).
_START = r"(?<![\w+/$#])(?<!\d[.,])"
_END = r"(?![\w/]|[.,]\d)"
_EXTENSION = r"(?:\s*(?:ext\.?|extension|x)\s*\d{1,5}\b)?"
# Words after a "555-1234"-shaped number that make it a quantity or a range, not a phone.
_UNITS = r"(?!\s*(?:mg|mcg|ml|kg|g|%|dollars|usd|people|patients|times|minutes|mins|hours)\b)"

# The phone shapes are clinic.phone's (the ones the settings and the data checker use); masking
# loosens them on purpose: more separators (the dashes above, no-break spaces), an extension,
# its own start and end guards, and local numbers without area code (below), because what a
# visitor types must be masked even when it would not be a valid clinic setting, and masking a
# little too much is harmless where storing a number is not.
_US_PHONE = re.compile(_START + us_phone(_SEP) + _EXTENSION + _END, re.IGNORECASE)
# A local number without area code: only with a dash ("249-2580"), since "249.2580" is
# a decimal and "249 2580" two quantities.
_LOCAL_PHONE = re.compile(_START + f"\\d{{3}}[{_DASHES}]\\d{{4}}" + _END + _UNITS, re.IGNORECASE)
# "+" then digit groups; checked afterwards to hold 8 to 15 digits (the E.164 maximum).
_INTERNATIONAL_PHONE = re.compile(
    _START + international_phone(_SEP) + _EXTENSION + _END, re.IGNORECASE
)
_EMAIL = re.compile(r"[\w.%+'-]+@(?:[\w-]+\.)+[^\W\d_]{2,}\b")
# Written out to dodge spam filters: "jane at gmail dot com", "jane[at]gmail[dot]com".
_AT = r"(?:\s*[\[({]\s*at\s*[\])}]\s*|\s+at\s+)"
_DOT = r"(?:\s*[\[({]\s*dot\s*[\])}]\s*|\s+dot\s+|\.)"
_TOP_LEVEL = r"(?:com|org|net|edu|gov|us|io|co|uk|ca|de|fr|info|me)"
_SPELLED_EMAIL = re.compile(
    rf"\b[\w.+-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)*?{_DOT}{_TOP_LEVEL}\b", re.IGNORECASE
)


def _substitute(pattern: re.Pattern, placeholder: str, text: str, found: List[str]) -> str:
    def replace(match: re.Match) -> str:
        if pattern is _INTERNATIONAL_PHONE and not is_international_length(match.group()):
            return match.group()
        found.append(match.group())
        return placeholder

    return pattern.sub(replace, text)


def _mask(text: str, found: List[str]) -> str:
    # E-mails first: "jane4152492580@mail.com" is one address, not a phone number.
    for pattern, placeholder in (
        (_EMAIL, EMAIL), (_SPELLED_EMAIL, EMAIL),
        (_INTERNATIONAL_PHONE, PHONE), (_US_PHONE, PHONE), (_LOCAL_PHONE, PHONE),
    ):
        text = _substitute(pattern, placeholder, text, found)
    return text


def find_sensitive(text: str) -> List[str]:
    """The phone numbers and e-mail addresses in `text`, as typed."""
    found: List[str] = []
    _mask(text, found)
    return found


def mask_text(text: str) -> str:
    """`text` with phone numbers and e-mail addresses replaced by placeholders."""
    return _mask(text, [])


def _placeholder_for(found: str) -> str:
    return EMAIL if mask_text(found) == EMAIL else PHONE


def replace_found(value: Any, found: Iterable[str]) -> Any:
    """A copy of `value` (nested dicts/lists/strings) with every `found` string masked."""
    ordered = sorted(set(found), key=len, reverse=True)  # "+1 415..." before "415..."
    if not ordered:
        return value
    if isinstance(value, str):
        for text in ordered:
            value = value.replace(text, _placeholder_for(text))
        return value
    if isinstance(value, Mapping):
        return {key: replace_found(item, ordered) for key, item in value.items()}
    if isinstance(value, list):
        return [replace_found(item, ordered) for item in value]
    return value


def _mask_all_strings(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {key: _mask_all_strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask_all_strings(item) for item in value]
    return value


def sensitive_in_user_events(events: Iterable[Mapping[str, Any]]) -> Set[str]:
    """Every phone number and e-mail address the visitor typed in these serialised events."""
    found: Set[str] = set()
    for event in events:
        if event.get("event") == "user":
            for text in (event.get("text"), (event.get("parse_data") or {}).get("text")):
                if isinstance(text, str):
                    found.update(find_sensitive(text))
    return found


def mask_event(event: Mapping[str, Any], found: Iterable[str] = ()) -> dict:
    """A masked copy of one serialised event (`Event.as_dict()`); `event` is not changed.

    In a visitor's message the text, the text the NLU parsed, the entity values and any
    metadata the channel passed along are masked with the patterns. In every event (replies,
    slots), the strings in `found` (what the visitor typed earlier) are replaced as well.
    """
    masked = dict(replace_found(dict(event), found))
    if masked.get("event") != "user":
        return masked
    if isinstance(masked.get("text"), str):
        masked["text"] = mask_text(masked["text"])
    if "metadata" in masked:
        masked["metadata"] = _mask_all_strings(masked["metadata"])
    parse_data = masked.get("parse_data")
    if isinstance(parse_data, Mapping):
        parse_data = dict(parse_data)
        if isinstance(parse_data.get("text"), str):
            parse_data["text"] = mask_text(parse_data["text"])
        parse_data["entities"] = [
            {**entity, "value": _mask_all_strings(entity.get("value"))}
            if isinstance(entity, Mapping) else entity
            for entity in parse_data.get("entities") or []
        ]
        if "metadata" in parse_data:
            parse_data["metadata"] = _mask_all_strings(parse_data["metadata"])
        masked["parse_data"] = parse_data
    return masked
