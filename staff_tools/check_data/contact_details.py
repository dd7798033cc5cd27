"""Answers must not state phone numbers or web addresses other than the clinic's settings'."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Set, Tuple

from yaml.nodes import ScalarNode

from clinic.phone import find_phone_numbers, remove_phone_numbers
from clinic.settings import ClinicSettings, SettingsError, load_settings
from staff_tools.check_data.domain import DomainData
from staff_tools.check_data.layout import DOMAIN_FILE, SETTINGS_FILE
from staff_tools.check_data.project import Project
from staff_tools.check_data.yaml_nodes import scalars

# Phone numbers an answer may state although they are not the clinic's: the crisis lines the
# assistant must give people in danger (SPEC section 3): 988 (Suicide & Crisis Lifeline, call
# or text), 741741 (Crisis Text Line, text HOME) and 911. They are national numbers that never
# change, so they are not clinic settings.
CRISIS_NUMBERS = frozenset({"988", "741741", "911"})

# Web addresses the clinic's article cites as further reading, which utter_faq/research offers
# (SPEC section 1). Add an address here only if the article itself cites it.
ARTICLE_REFERENCE_URLS = (
    "https://pubmed.ncbi.nlm.nih.gov/35326338/",
    "https://pubmed.ncbi.nlm.nih.gov/35997954/",
    "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC6767816/",
    "https://jeatdisord.biomedcentral.com/articles/10.1186/s40337-022-00588-9",
    "https://www.webmd.com/depression/features/what-does-ketamine-do-your-brain",
)

# How an answer's web address or phone number that is not allowed is reported: the setting it
# should come from, what else an answer may state, and what the assistant adds by itself.
UNLISTED_CONTACT_WORDS = {
    "web address": ("booking address", "one the clinic's article cites", "booking link"),
    "phone number": ("clinic's number", "a crisis line (988, 741741, 911)", "clinic's phone"),
}

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'()\[\]]+", re.IGNORECASE)
_BARE_DOMAIN = re.compile(
    r"\b(?:[a-z0-9-]+\.)+(?:com|org|net|gov|edu|io|co|us|info|health|clinic|biz|app)\b"
    r"(?:/[^\s<>\"'()\[\]]*)?",
    re.IGNORECASE,
)
# A short number right after "call", "text", "dial"...: "call 311", "text HOME to 741741".
_DIALLED_NUMBER = re.compile(r"\b(?:call|text|dial|phone|ring|tel)\b(?:\W+\w+){0,4}?\W+(\d{3,6})\b",
                             re.IGNORECASE)


def _normalized_url(url: str) -> str:
    url = re.sub(r"^https?://", "", url.strip().lower())
    url = url[4:] if url.startswith("www.") else url
    return url.rstrip("/.,;:!?")


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@dataclass(frozen=True)
class Allowed:
    """The clinic's phone and booking address, and every number and address an answer may state."""

    phone: str
    booking_url: str
    numbers: Set[str]
    urls: Set[str]

    @classmethod
    def from_settings(cls, settings: ClinicSettings) -> Allowed:
        """The settings' phone (with or without the leading 1), the crisis lines, the URLs."""
        phone = _digits(settings.phone)
        numbers = set(CRISIS_NUMBERS) | {phone, phone[1:] if phone.startswith("1") else "1"
                                         + phone}
        urls = {_normalized_url(url) for url in (settings.booking_url, *ARTICLE_REFERENCE_URLS)}
        return cls(settings.phone, settings.booking_url, numbers, urls)

    def unlisted(self, text: str) -> List[Tuple[str, str, str]]:
        """(kind, what the text states, the setting's value) for each one not allowed."""
        urls, numbers = contact_details_in(text)
        found = [("web address", url, self.booking_url) for url in urls
                 if _normalized_url(url) not in self.urls]
        found += [("phone number", number, self.phone) for number in numbers
                  if _digits(number) not in self.numbers]
        return found


def contact_details_in(text: str) -> Tuple[List[str], List[str]]:
    """The web addresses and the phone numbers a text states."""
    urls = [match.group(0).rstrip(".,;:!?") for match in _URL.finditer(text)]
    rest = _URL.sub(" ", text)
    urls += [match.group(0).rstrip(".,;:!?") for match in _BARE_DOMAIN.finditer(rest)]
    rest = _BARE_DOMAIN.sub(" ", rest)
    numbers = [match.group(0).strip() for match in find_phone_numbers(rest)]
    rest = remove_phone_numbers(rest)
    numbers += [match.group(1) for match in _DIALLED_NUMBER.finditer(rest)]
    return urls, numbers


def check_contact_details(project: Project, domain: DomainData) -> None:
    """Answers must not state phone numbers or web addresses other than the settings'."""
    settings = _read_settings(project)
    if settings is None:
        return
    allowed = Allowed.from_settings(settings)
    for name, (_, value) in sorted(domain.responses.items(), key=lambda item: item[1][0]):
        project.report.answers_checked += 1
        for scalar in scalars(value):
            _check_text(project, name, scalar, allowed)


def _read_settings(project: Project) -> Optional[ClinicSettings]:
    """The clinic's settings, or None (reported) if they cannot be read or are not valid."""
    settings_path = project.root / SETTINGS_FILE
    if project.read(settings_path) is None:
        return None
    try:
        return load_settings(settings_path)
    except SettingsError as error:
        message = str(error).split(": ", 1)[-1]
        setting = re.search(r"setting '(\w+)", message)
        line = _setting_line(project, setting.group(1)) if setting else 1
        project.add(SETTINGS_FILE, line, message,
                    "correct the value as the comment above it in the file describes, then "
                    "run `make validate` again")
        return None


def _setting_line(project: Project, name: str) -> int:
    for index, text in enumerate(project.source_lines(SETTINGS_FILE)):
        if re.match(rf"\s*{re.escape(name)}\s*:", text):
            return index + 1
    return 1


def _check_text(project: Project, name: str, node: ScalarNode, allowed: Allowed) -> None:
    for kind, found, value in allowed.unlisted(node.value):
        setting, also_allowed, added = UNLISTED_CONTACT_WORDS[kind]
        project.add(DOMAIN_FILE, project.line_of(DOMAIN_FILE, found, node),
                    f"the answer {name} contains the {kind} {found}, which is not the "
                    f"{setting} in {SETTINGS_FILE} ({value}) nor {also_allowed}",
                    f"delete it: after each answer the assistant adds the {added} from "
                    f"{SETTINGS_FILE} by itself; if the {setting} changed, change it in "
                    f"{SETTINGS_FILE} only")
