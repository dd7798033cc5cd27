"""What a phone number looks like: the one definition the settings, the checker and masking use.

A number is either North American (optional country code 1, area code maybe in
parentheses, exchange, line: "415-249-2580", "(415) 249-2580", "+1 415.249.2580") or
international ("+" and 8 to 15 digits in groups: "+44 20 7946 0958"). Digit groups are
separated by at most one separator.

- `clinic.settings` accepts a `phone:` setting only if it is such a number (`is_phone_number`);
- `staff_tools.check_data` finds such numbers in the answers' text (`find_phone_numbers`);
- `clinic_server.masking` builds its patterns from `us_phone` and `international_phone`, with
  more separators and its own guards (see there), because visitors type and paste freely.
"""

from __future__ import annotations

import re
from typing import List, Match

# Separators people write between digit groups; at most one between two groups.
SEPARATORS = " .\\-"
# The E.164 limits of an international number's digits (country code included).
MIN_INTERNATIONAL_DIGITS = 8
MAX_INTERNATIONAL_DIGITS = 15


def separator(extra: str = "") -> str:
    """A pattern for one optional separator; `extra` adds characters to the set (regex-escaped)."""
    return f"[{SEPARATORS}{extra}]?"


def us_phone(sep: str) -> str:
    """A pattern for a North American number, digit groups separated by `sep`."""
    return (
        f"(?:\\+?1{sep})?"  # country code
        f"(?:\\(\\d{{3}}\\)\\s?|\\d{{3}}{sep})"  # area code, maybe in parentheses
        f"\\d{{3}}{sep}\\d{{4}}"
    )


def international_phone(sep: str) -> str:
    """A pattern for "+" and digit groups; check the digits with `is_international_length`."""
    return f"\\+\\d{{1,3}}(?:{sep}\\(?\\d{{1,5}}\\)?){{1,6}}"


def digit_count(text: str) -> int:
    """How many digits `text` holds."""
    return sum(character.isdigit() for character in text)


def is_international_length(text: str) -> bool:
    """An international number holds 8 to 15 digits."""
    return MIN_INTERNATIONAL_DIGITS <= digit_count(text) <= MAX_INTERNATIONAL_DIGITS


_SEP = separator()
_US = re.compile(us_phone(_SEP))
_INTERNATIONAL = re.compile(international_phone(_SEP))
# In running text: not glued to a word or to a path or date ("3/15/...").
_IN_TEXT = re.compile(
    f"(?<![\\w/])(?:(?P<us>{us_phone(_SEP)})|(?P<intl>{international_phone(_SEP)}))(?![\\w/])"
)


def is_phone_number(value: str) -> bool:
    """Whether `value`, as a whole, is a phone number."""
    if _US.fullmatch(value):
        return True
    return bool(_INTERNATIONAL.fullmatch(value)) and is_international_length(value)


def find_phone_numbers(text: str) -> List[Match[str]]:
    """The phone numbers written in `text`, in order."""
    return [
        match for match in _IN_TEXT.finditer(text)
        if match.group("us") or is_international_length(match.group())
    ]


def remove_phone_numbers(text: str, replacement: str = " ") -> str:
    """`text` with every phone number `find_phone_numbers` finds replaced."""
    pieces, last = [], 0
    for match in find_phone_numbers(text):
        pieces += [text[last:match.start()], replacement]
        last = match.end()
    return "".join([*pieces, text[last:]])
