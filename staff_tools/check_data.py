"""Check the training data, answers and topic settings, with messages staff can act on.

    python -m staff_tools.check_data [--project DIR]

Every problem is printed as `path:line: what is wrong. How to fix: ...`; the command exits 1
if there is any, and 0 with a short "Data OK" summary otherwise. It reads the YAML files only
(no Rasa, no model), so it takes well under a second. `make validate` runs it first, before
Rasa's own `rasa data validate`, whose messages are harder to read.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Set, Tuple

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from clinic.paths import PROJECT_DIR
from clinic.phone import find_phone_numbers, remove_phone_numbers
from clinic.settings import SettingsError, load_settings
from clinic.topics import TOPIC_KEYS, TopicProblem, topic_problems

# With fewer examples than this the model cannot reliably tell a topic or intent from its
# neighbours (every topic and intent of the project has more than twice as many).
MIN_EXAMPLES = 10

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

FAQ_INTENT = "faq"
FAQ_ANSWER_PREFIX = "utter_faq/"
NLU_GLOB = "data/nlu/*.yml"
STORY_GLOBS = ("data/rules/*.yml", "data/stories/*.yml", "tests/test_stories.yml")
OTHER_YAML_GLOBS = ("patterns/*.yml", "config.yml", "tests/heldout/crisis_heldout*.yml")
HELDOUT_NLU_GLOB = "tests/heldout/nlu_heldout*.yml"
DOMAIN_FILE = "domain.yml"
TOPICS_FILE = "settings/faq_topics.yml"
SETTINGS_FILE = "settings/clinic.yml"
GUIDE = "docs/staff-guide.md"

# Rasa's built-in intents and actions, which rules and stories may use without declaring them
# (rasa.shared.core.constants; copied so that this check does not have to import Rasa).
RULE_KEYS = frozenset({"rule", "steps", "condition", "conversation_start",
                       "wait_for_user_input", "metadata"})
STORY_KEYS = frozenset({"story", "steps", "metadata"})
RASA_INTENTS = frozenset({"restart", "back", "out_of_scope", "session_start", "nlu_fallback"})
RASA_ACTIONS = frozenset({
    "action_listen", "action_restart", "action_session_start", "action_default_fallback",
    "action_deactivate_loop", "action_revert_fallback_events", "action_default_ask_affirmation",
    "action_default_ask_rephrase", "action_two_stage_fallback", "action_unlikely_intent",
    "action_back", "action_extract_slots", "...",
})

_ENTITY_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'()\[\]]+", re.IGNORECASE)
_BARE_DOMAIN = re.compile(
    r"\b(?:[a-z0-9-]+\.)+(?:com|org|net|gov|edu|io|co|us|info|health|clinic|biz|app)\b"
    r"(?:/[^\s<>\"'()\[\]]*)?",
    re.IGNORECASE,
)
# A short number right after "call", "text", "dial"...: "call 311", "text HOME to 741741".
_DIALLED_NUMBER = re.compile(r"\b(?:call|text|dial|phone|ring|tel)\b(?:\W+\w+){0,4}?\W+(\d{3,6})\b",
                             re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing staff must fix, where it is and how."""

    path: str
    line: int
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}. How to fix: {self.fix}"


@dataclass(frozen=True)
class Example:
    """One training example and where it is written."""

    text: str
    label: str  # an intent, or faq/<key> for an FAQ topic
    path: str
    line: int


@dataclass
class Report:
    """Everything the check found, and what it looked at."""

    problems: List[Problem] = field(default_factory=list)
    examples: List[Example] = field(default_factory=list)
    answers_checked: int = 0
    steps_checked: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing needs fixing."""
        return not self.problems

    def summary(self) -> str:
        """One line for a clean run."""
        labels = {example.label for example in self.examples}
        topics = {label for label in labels if label.startswith(FAQ_INTENT + "/")}
        return (
            f"Data OK: {len(self.examples)} examples for {len(labels) - len(topics)} intents "
            f"and {len(topics)} FAQ topics, {self.answers_checked} answers and "
            f"{self.steps_checked} rule and story steps checked."
        )


def comparable(text: str) -> str:
    """An example as the model sees it: no entity marks, case, spacing or end punctuation."""
    plain = _ENTITY_ANNOTATION.sub(r"\1", text)
    folded = " ".join(plain.lower().replace("\u2019", "'").split())
    return folded.rstrip("?!. ") or folded


def _did_you_mean(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _quote(text: str, limit: int = 70) -> str:
    return f'"{text}"' if len(text) <= limit else f'"{text[:limit - 3]}..."'


def _yaml_problem(path: str, error: yaml.MarkedYAMLError) -> Problem:
    """A YAML parser error in plain words, at the line where the mistake most likely is."""
    problem = (error.problem or "").strip()
    context = (error.context or "").strip()
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark else 1
    prefix = "this file cannot be read"
    # Where the parser gave up is often far below the mistake: for an unclosed quote or
    # bracket, or a line without its colon, the mistake is where that began.
    if error.context_mark is not None and any(
        start in context for start in ("quoted scalar", "flow", "simple key")
    ):
        line = error.context_mark.line + 1
    if "quoted scalar" in context:
        return Problem(path, line, f"{prefix}: a quotation mark opened on this line is never "
                       "closed", "add the closing quotation mark at the end of the text")
    if "'\\t'" in problem or "tab" in problem:
        return Problem(path, line, f"{prefix}: this line contains a tab character",
                       "indent with spaces only: delete the tab and type spaces instead")
    if problem.startswith("mapping values are not allowed"):
        return Problem(
            path, line,
            f"{prefix}: there is a colon followed by a space (': ') where none is expected",
            "if this line is text that contains ': ', put the whole text in double quotes; "
            "otherwise check that the line is indented like the lines around it",
        )
    if "could not find expected ':'" in problem:
        return Problem(path, line, f"{prefix}: a 'name: value' line has no colon, or a "
                       "line above it is not indented like its neighbours",
                       "add the missing ':' or line the indentation up with the lines above")
    if "cannot start any token" in problem:
        return Problem(path, line, f"{prefix}: a text starts with a character YAML reserves "
                       "(such as @, ` or %)", "put the whole text in double quotes")
    if "unknown escape character" in problem:
        return Problem(path, line, f"{prefix}: a backslash (\\) inside double quotes",
                       "remove the backslash, or use single quotes around the text")
    if "flow" in context:
        return Problem(path, line, f"{prefix}: a list in square brackets [...] or a group in "
                       "braces {...} is not closed properly",
                       "check the brackets and commas on this line")
    if "expected <block end>" in problem or "did not find expected" in problem or \
            "block" in context:
        return Problem(path, line, f"{prefix}: the indentation (the spaces at the start of "
                       "the line) does not line up with the lines above",
                       "indent this line with exactly as many spaces as the lines it belongs "
                       "with; compare it with a block that works")
    return Problem(path, line, f"{prefix}: {problem or 'not valid YAML'}",
                   "compare this line with a similar block that works, and look for a "
                   "missing quote, colon or space")


def _scalar(node: Optional[Node]) -> Optional[str]:
    return node.value if isinstance(node, ScalarNode) else None


def _is_bool(node: Optional[Node]) -> bool:
    return isinstance(node, ScalarNode) and node.tag.endswith(":bool")


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _items(node: Optional[Node]) -> List[Tuple[ScalarNode, Node]]:
    """The `key: value` pairs of a mapping whose keys are plain text."""
    if not isinstance(node, MappingNode):
        return []
    return [(key, value) for key, value in node.value if isinstance(key, ScalarNode)]


def _seq(node: Optional[Node]) -> List[Node]:
    """The items of a list, or nothing if `node` is not a list."""
    return list(node.value) if isinstance(node, SequenceNode) else []


def _get(node: Optional[Node], key: str) -> Optional[Node]:
    return next((value for name, value in _items(node) if name.value == key), None)


def _construct(node: Node) -> Any:
    """The Python value of a node, as `yaml.safe_load` would give it."""
    return yaml.SafeLoader("").construct_document(node)


def _scalars(node: Node) -> Iterator[ScalarNode]:
    """Every text value inside a node, however deeply nested."""
    if isinstance(node, ScalarNode):
        yield node
    elif isinstance(node, SequenceNode):
        for item in node.value:
            yield from _scalars(item)
    elif isinstance(node, MappingNode):
        for _, value in node.value:
            yield from _scalars(value)


def _normalized_url(url: str) -> str:
    url = re.sub(r"^https?://", "", url.strip().lower())
    url = url[4:] if url.startswith("www.") else url
    return url.rstrip("/.,;:!?")


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


class DataChecker:
    """Reads a project's staff-edited files and collects every problem found."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.report = Report()
        self._source: Dict[str, List[str]] = {}
        self.label_lines: Dict[str, Tuple[str, int]] = {}  # label -> its first `- intent:`
        self.domain_intents: Dict[str, int] = {}
        self.responses: Dict[str, Tuple[int, Node]] = {}
        self.actions: Set[str] = set()
        self.topics: Dict[str, Tuple[int, Node]] = {}
        self.domain_read = False
        self.topics_read = False
        # False when an NLU file could not be read: checks that need every example are then
        # skipped, so that one broken file does not bury its own message under false alarms.
        self.nlu_complete = True

    # -- helpers ---------------------------------------------------------------------------
    def add(self, path: str, line: int, what: str, fix: str) -> None:
        """Record a problem."""
        self.report.problems.append(Problem(path, line, what, fix))

    def rel(self, path: Path) -> str:
        """A path as staff see it in the project folder."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def files(self, pattern: str) -> List[Path]:
        """The project files matching a glob, in a stable order."""
        return sorted(self.root.glob(pattern))

    def read(self, path: Path) -> Optional[Node]:
        """Parse a YAML file into nodes that know their line numbers; report if unreadable."""
        rel = self.rel(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self.add(rel, 1, "this file is missing",
                     "restore it from the last working copy (ask a developer)")
            return None
        except UnicodeDecodeError:
            self.add(rel, 1, "this file is not plain text (UTF-8)",
                     "save it again as UTF-8 text in your editor")
            return None
        self._source[rel] = text.splitlines()
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as error:
            self.report.problems.append(_yaml_problem(rel, error))
            return None
        except yaml.YAMLError as error:
            self.add(rel, 1, f"this file cannot be read: {error}",
                     "compare it with a similar file that works")
            return None
        if node is not None:
            self._check_repeated_names(rel, node)
        return node

    def _check_repeated_names(self, rel: str, node: Node) -> None:
        # The YAML reader silently keeps only the last of two equal names: say so.
        if isinstance(node, MappingNode):
            seen: Dict[str, int] = {}
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.value != "<<":
                    if key.value in seen:
                        self.add(rel, _line(key),
                                 f"'{key.value}' is written twice in the same block (also at line "
                                 f"{seen[key.value]}); only this second one would be used",
                                 "keep one of the two and delete the other, or merge them")
                    else:
                        seen[key.value] = _line(key)
                self._check_repeated_names(rel, value)
        elif isinstance(node, SequenceNode):
            for item in node.value:
                self._check_repeated_names(rel, item)

    def line_of(self, rel: str, needle: str, node: Node) -> int:
        """The line inside a (possibly multi-line) value where `needle` is written."""
        lines = self._source.get(rel, [])
        for index in range(node.start_mark.line, min(node.end_mark.line + 1, len(lines))):
            if needle in lines[index]:
                return index + 1
        # Block text (`>-` or `|`) starts on the line after its marker.
        block = isinstance(node, ScalarNode) and node.style in ("|", ">")
        return _line(node) + (1 if block else 0)

    # -- reading ---------------------------------------------------------------------------
    def read_nlu(self) -> None:
        """Collect the examples of every intent and FAQ topic in data/nlu/."""
        paths = self.files(NLU_GLOB)
        if not paths:
            self.add("data/nlu", 1, "there are no training data files (*.yml) in this folder",
                     "restore data/nlu/ from the last working copy (ask a developer)")
        for path in paths:
            rel = self.rel(path)
            root = self.read(path)
            if root is None:
                self.nlu_complete = False
                continue
            blocks = _get(root, "nlu")
            if not isinstance(blocks, SequenceNode):
                self.add(rel, _line(blocks or root), "this file has no 'nlu:' list of intents",
                         "start the file with 'version: \"3.1\"' and 'nlu:', then one "
                         "'- intent: name' block per intent, like data/nlu/faq.yml")
                self.nlu_complete = False
                continue
            for block in blocks.value:
                self._read_nlu_block(rel, block)

    def _read_nlu_block(self, rel: str, block: Node) -> None:
        if not isinstance(block, MappingNode):
            self.add(rel, _line(block), "this line should start a block '- intent: name'",
                     "indent it under the intent it belongs to, or start it with "
                     "'- intent: '")
            return
        label_node = _get(block, "intent")
        if label_node is None:
            if not any(_get(block, kind) for kind in ("synonym", "regex", "lookup")):
                self.add(rel, _line(block), "this block has no 'intent:' name",
                         "start the block with '- intent: ' and the intent or faq/<topic> name")
            return
        label = (_scalar(label_node) or "").strip()
        if not label:
            self.add(rel, _line(label_node), "this intent has no name",
                     "write the name after 'intent: ', e.g. 'intent: faq/cost_insurance'")
            return
        self.label_lines.setdefault(label, (rel, _line(label_node)))
        examples = _get(block, "examples")
        if not isinstance(examples, ScalarNode) or not examples.value.strip():
            self.add(rel, _line(examples or label_node), f"{label} has no examples block",
                     "write 'examples: |' under the intent line, then one example per line "
                     "starting with '- ', indented like the other intents in this file")
            return
        self._read_examples(rel, label, examples)

    def _read_examples(self, rel: str, label: str, block: ScalarNode) -> None:
        lines = self._source.get(rel, [])
        cursor = block.start_mark.line
        for raw in block.value.splitlines():
            # Find this line in the file: the block's lines follow each other in order.
            index = next((i for i in range(cursor, min(block.end_mark.line + 1, len(lines)))
                          if lines[i].strip() == raw.strip()), None)
            if index is not None:
                cursor = index + 1
            line = (index if index is not None else block.start_mark.line) + 1
            if not raw.strip():
                self.add(rel, line, f"an empty line inside the examples of {label}",
                         "delete the empty line: leave blank lines only between two "
                         "'- intent:' blocks")
                continue
            if not raw.startswith("-"):
                self.add(rel, line, f"this line under {label} is not an example: example lines "
                         "must start with '- ' and be indented like the others",
                         "start it with '- ' at the same indentation as the example above it")
                continue
            text = raw[1:].strip("\n\r ")
            if not text:
                self.add(rel, line, f"an empty example under {label} (nothing after '- ')",
                         "write the example after '- ', or delete the line")
                continue
            self.report.examples.append(Example(text, label, rel, line))

    def read_domain(self) -> None:
        """Collect the domain's intents, actions and answers (responses)."""
        path = self.root / DOMAIN_FILE
        root = self.read(path)
        if root is None:
            return
        self.domain_read = True
        for item in _seq(_get(root, "intents")):
            name = _scalar(item) or next((key.value for key, _ in _items(item)), None)
            if name:
                self.domain_intents.setdefault(name, _line(item))
        for item in _seq(_get(root, "actions")):
            if _scalar(item):
                self.actions.add(item.value)
        for key, value in _items(_get(root, "responses")):
            self.responses.setdefault(key.value, (_line(key), value))
            if not isinstance(value, SequenceNode) or not value.value:
                self.add(DOMAIN_FILE, _line(key), f"the answer {key.value} has no text",
                         "write the answer under it as '- text: ...', like the other answers")

    def read_topics(self) -> None:
        """Collect the FAQ topics' titles and related topics from settings/faq_topics.yml."""
        root = self.read(self.root / TOPICS_FILE)
        if root is None:
            return
        self.topics_read = True
        if not isinstance(root, MappingNode):
            for problem in topic_problems(_construct(root)):
                self.add(TOPICS_FILE, _line(root), problem.what, problem.fix)
            return
        for key, value in _items(root):
            self.topics.setdefault(key.value, (_line(key), value))

    def read_stories(self) -> None:
        """Check that rules and stories only use intents and actions that exist."""
        known_intents = set(self.domain_intents) | RASA_INTENTS
        faq_topics = {label for label in self.label_lines if label.startswith(FAQ_INTENT + "/")}
        known_actions = set(self.responses) | self.actions | RASA_ACTIONS
        known_actions |= {f"utter_{intent}" for intent in self.domain_intents}  # retrieval
        for pattern in STORY_GLOBS:
            for path in self.files(pattern):
                rel = self.rel(path)
                root = self.read(path)
                for section, kind in (("rules", "rule"), ("stories", "story")):
                    for entry in _seq(_get(root, section)):
                        name = _scalar(_get(entry, kind)) or "(no name)"
                        self._check_entry_keys(rel, kind, name, entry)
                        for step in _seq(_get(entry, "steps")):
                            self._check_step(rel, kind, name, step, known_intents, faq_topics,
                                             known_actions)

    def _check_entry_keys(self, rel: str, kind: str, name: str, entry: Node) -> None:
        allowed = RULE_KEYS if kind == "rule" else STORY_KEYS
        for key, _ in _items(entry):
            if key.value not in allowed:
                self.add(rel, _line(key),
                         f"the {kind} {_quote(name)} has a line '{key.value}:' that is not "
                         "indented as one of its steps",
                         "steps go under 'steps:', each starting with '- ' and indented "
                         "two spaces more than 'steps:'; line it up with the steps above")

    def _known_intent(self, intent: str, known_intents: Set[str], faq_topics: Set[str]) -> bool:
        base = intent.split("/", 1)[0]
        if not self.domain_read:
            return True
        if "/" not in intent or not self.nlu_complete:
            return base in known_intents
        return base in known_intents and intent in faq_topics

    def _check_step(self, rel: str, kind: str, name: str, step: Node, known_intents: Set[str],
                    faq_topics: Set[str], known_actions: Set[str]) -> None:
        self.report.steps_checked += 1
        choices = [_get(choice, "intent") for choice in _seq(_get(step, "or"))]
        for intent_node in [_get(step, "intent"), *choices]:
            intent = _scalar(intent_node)
            if intent_node is None or intent is None:
                continue
            if self._known_intent(intent, known_intents, faq_topics):
                continue
            known = sorted(known_intents | faq_topics)
            self.add(rel, _line(intent_node),
                     f"the {kind} {_quote(name)} uses the intent '{intent}', which has no "
                     f"examples in data/nlu/ or is not listed in {DOMAIN_FILE}"
                     f"{_did_you_mean(intent, known)}",
                     "correct the spelling, or add the intent and its examples first")
        action_node = _get(step, "action")
        action = _scalar(action_node)
        if self.domain_read and action_node is not None and action is not None \
                and action not in known_actions:
            self.add(rel, _line(action_node),
                     f"the {kind} {_quote(name)} uses '{action}', which is neither an answer "
                     f"nor an action in {DOMAIN_FILE}"
                     f"{_did_you_mean(action, sorted(known_actions))}",
                     f"correct the spelling, or add the answer to {DOMAIN_FILE} under "
                     "'responses:' first")

    def read_heldout(self) -> None:
        """Held-out question files: readable, and labelled with topics that exist."""
        for path in self.files(HELDOUT_NLU_GLOB):
            rel = self.rel(path)
            root = self.read(path)
            for block in _seq(_get(root, "nlu")):
                label_node = _get(block, "intent")
                label = _scalar(label_node)
                if label_node is None or label is None or label in self.label_lines:
                    continue
                if self.nlu_complete:
                    self.add(rel, _line(label_node),
                             f"these held-out questions are labelled '{label}', which is not "
                             "an intent or topic of the training data"
                             f"{_did_you_mean(label, list(self.label_lines))}",
                             "correct the label to the topic's name as in data/nlu/, e.g. "
                             "'faq/cost_insurance'")

    def read_other_yaml(self) -> None:
        """Patterns and config: only check that they can be read."""
        for pattern in OTHER_YAML_GLOBS:
            for path in self.files(pattern):
                self.read(path)

    # -- checks ----------------------------------------------------------------------------
    def check_duplicates(self) -> None:
        """The same example under two intents or topics, or twice under one."""
        by_text: Dict[str, List[Example]] = defaultdict(list)
        for example in self.report.examples:
            by_text[comparable(example.text)].append(example)
        for examples in by_text.values():
            first = examples[0]
            for later in examples[1:]:
                where = f"{first.path}:{first.line}"
                if later.label != first.label:
                    self.add(later.path, later.line,
                             f"the example {_quote(later.text)} is under {later.label} here and "
                             f"also under {first.label} at {where}; the assistant cannot learn "
                             "two different topics from the same question",
                             f"decide which of {first.label} and {later.label} it belongs to "
                             "and delete the other line")
                elif " ".join(later.text.lower().split()) == " ".join(first.text.lower().split()):
                    self.add(later.path, later.line,
                             f"the example {_quote(later.text)} is written twice under "
                             f"{later.label} (also at {where})",
                             "delete one of the two lines")

    def check_counts(self) -> None:
        """Every intent and FAQ topic needs MIN_EXAMPLES examples."""
        counts = Counter(example.label for example in self.report.examples)
        for label, (rel, line) in sorted(self.label_lines.items()):
            if counts[label] < MIN_EXAMPLES:
                missing = MIN_EXAMPLES - counts[label]
                self.add(rel, line,
                         f"{label} has only {counts[label]} examples; every topic and intent "
                         f"needs at least {MIN_EXAMPLES} for the assistant to recognise it",
                         f"add at least {missing} more, different ways a visitor might ask "
                         "this, one per line starting with '- '")
        if not self.domain_read:
            return
        for label, (rel, line) in sorted(self.label_lines.items()):
            base = label.split("/", 1)[0]
            if base not in self.domain_intents:
                self.add(rel, line,
                         f"the intent '{base}' is not listed under 'intents:' in {DOMAIN_FILE}"
                         f"{_did_you_mean(base, list(self.domain_intents))}",
                         f"correct the spelling here, or add '- {base}' under 'intents:' in "
                         f"{DOMAIN_FILE}")
        labels_by_base = {label.split("/", 1)[0] for label in self.label_lines}
        for intent, line in sorted(self.domain_intents.items()) if self.nlu_complete else []:
            if intent not in labels_by_base and intent not in RASA_INTENTS:
                self.add(DOMAIN_FILE, line, f"the intent '{intent}' has no examples in data/nlu/",
                         f"add a '- intent: {intent}' block with at least {MIN_EXAMPLES} "
                         "examples to a file in data/nlu/, or delete this line")

    def check_faq_topics(self) -> None:
        """Examples, answer and settings entry must exist together for each FAQ topic."""
        prefix = FAQ_INTENT + "/"
        with_examples = {label[len(prefix):]: where for label, where in self.label_lines.items()
                         if label.startswith(prefix)}
        answers = {name[len(FAQ_ANSWER_PREFIX):]: line for name, (line, _) in
                   self.responses.items() if name.startswith(FAQ_ANSWER_PREFIX)}
        if self.domain_read:
            for key, (rel, line) in sorted(with_examples.items()):
                if key not in answers:
                    self.add(rel, line,
                             f"the topic faq/{key} has examples but no answer: {DOMAIN_FILE} "
                             f"has no utter_faq/{key}{_did_you_mean(key, list(answers))}",
                             f"add the answer to {DOMAIN_FILE} under 'responses:' as "
                             f"'utter_faq/{key}:' (see {GUIDE}), or correct the topic name here")
            for key, line in sorted(answers.items()) if self.nlu_complete else []:
                if key not in with_examples:
                    self.add(DOMAIN_FILE, line,
                             f"the answer utter_faq/{key} has no examples: data/nlu/ has no "
                             f"'- intent: faq/{key}'{_did_you_mean(key, list(with_examples))}",
                             f"add a '- intent: faq/{key}' block with at least {MIN_EXAMPLES} "
                             "examples to data/nlu/faq.yml, or correct the name here")
        if not (self.topics_read and self.domain_read):
            return
        for key, line in sorted(answers.items()):
            if key not in self.topics:
                self.add(DOMAIN_FILE, line,
                         f"the answer utter_faq/{key} has no entry in {TOPICS_FILE}, so it has "
                         "no button title and no follow-up topics",
                         f"add '{key}:' with 'title:', 'answered_by_article:' and 'related:' to "
                         f"{TOPICS_FILE}, like the other topics there")
        for key, (line, entry) in sorted(self.topics.items()):
            self._check_topic_entry(key, line, entry, answers, with_examples)
        self.check_topic_entries()

    def _check_topic_entry(self, key: str, line: int, entry: Node, answers: Dict[str, int],
                           with_examples: Dict[str, Tuple[str, int]]) -> None:
        # What a valid entry is, clinic.topics says (the action server loads it the same way);
        # here: what needs the domain and the training data.
        if key not in answers:
            self.add(TOPICS_FILE, line,
                     f"the topic '{key}' has no answer: {DOMAIN_FILE} has no utter_faq/{key}"
                     f"{_did_you_mean(key, list(answers))}",
                     f"add the answer to {DOMAIN_FILE}, correct the spelling, or delete this "
                     "topic here")
        title_node = _get(entry, "title")
        title = (_scalar(title_node) or "").strip()
        if title and key in with_examples and title_node is not None:
            examples = {comparable(e.text) for e in self.report.examples
                        if e.label == f"{FAQ_INTENT}/{key}"}
            if comparable(title) not in examples:
                self.add(TOPICS_FILE, _line(title_node),
                         f"the title {_quote(title)} is not one of the examples of faq/{key}; "
                         "its button sends exactly this text, so the assistant must know it",
                         f"add '- {title}' to the faq/{key} examples in data/nlu/faq.yml")

    def check_topic_entries(self) -> None:
        """Each topic entry as clinic.topics requires it, reported at its line."""
        raw = {key: _construct(entry) for key, (_, entry) in self.topics.items()}
        for problem in topic_problems(raw):
            self.add(TOPICS_FILE, self._topic_problem_line(problem), problem.what, problem.fix)

    def _topic_problem_line(self, problem: TopicProblem) -> int:
        key_line, entry = self.topics.get(problem.key or "", (1, None))
        if entry is None or problem.setting is None:
            return key_line
        pairs = [(name, value) for name, value in _items(entry) if name.value == problem.setting]
        if not pairs:
            return _line(entry)
        name, value = pairs[0]
        if problem.setting not in TOPIC_KEYS:
            return _line(name)
        items = _seq(value)
        if problem.item is not None and problem.item < len(items):
            return _line(items[problem.item])
        return _line(value)

    def check_contact_details(self) -> None:
        """Answers must not state phone numbers or web addresses other than the settings'."""
        settings_path = self.root / SETTINGS_FILE
        if self.read(settings_path) is None:
            return
        try:
            settings = load_settings(settings_path)
        except SettingsError as error:
            message = str(error).split(": ", 1)[-1]
            setting = re.search(r"setting '(\w+)", message)
            line = self._setting_line(setting.group(1)) if setting else 1
            self.add(SETTINGS_FILE, line, message,
                     "correct the value as the comment above it in the file describes, then "
                     "run `make validate` again")
            return
        phone = _digits(settings.phone)
        allowed_numbers = set(CRISIS_NUMBERS) | {phone, phone[1:] if phone.startswith("1") else "1"
                                            + phone}
        allowed_urls = {_normalized_url(url) for url in (settings.booking_url,
                                                         *ARTICLE_REFERENCE_URLS)}
        for name, (_, value) in sorted(self.responses.items(), key=lambda item: item[1][0]):
            self.report.answers_checked += 1
            for scalar in _scalars(value):
                self._check_text(name, scalar, settings.phone, settings.booking_url,
                                 allowed_numbers, allowed_urls)

    def _setting_line(self, name: str) -> int:
        for index, text in enumerate(self._source.get(SETTINGS_FILE, [])):
            if re.match(rf"\s*{re.escape(name)}\s*:", text):
                return index + 1
        return 1

    def _check_text(self, name: str, node: ScalarNode, phone: str, booking_url: str,
                    allowed_numbers: Set[str], allowed_urls: Set[str]) -> None:
        text = node.value
        found_urls = [match.group(0).rstrip(".,;:!?") for match in _URL.finditer(text)]
        rest = _URL.sub(" ", text)
        found_urls += [match.group(0).rstrip(".,;:!?") for match in _BARE_DOMAIN.finditer(rest)]
        rest = _BARE_DOMAIN.sub(" ", rest)
        numbers = [match.group(0).strip() for match in find_phone_numbers(rest)]
        rest = remove_phone_numbers(rest)
        numbers += [match.group(1) for match in _DIALLED_NUMBER.finditer(rest)]
        unlisted = [("web address", url, booking_url) for url in found_urls
                    if _normalized_url(url) not in allowed_urls]
        unlisted += [("phone number", number, phone) for number in numbers
                     if _digits(number) not in allowed_numbers]
        for kind, found, value in unlisted:
            setting, also_allowed, added = UNLISTED_CONTACT_WORDS[kind]
            self.add(DOMAIN_FILE, self.line_of(DOMAIN_FILE, found, node),
                     f"the answer {name} contains the {kind} {found}, which is not the "
                     f"{setting} in {SETTINGS_FILE} ({value}) nor {also_allowed}",
                     f"delete it: after each answer the assistant adds the {added} from "
                     f"{SETTINGS_FILE} by itself; if the {setting} changed, change it in "
                     f"{SETTINGS_FILE} only")


def check_project(root: Path) -> Report:
    """Run every check on the project in `root`."""
    checker = DataChecker(root)
    checker.read_nlu()
    checker.read_domain()
    checker.read_topics()
    checker.read_stories()
    checker.read_heldout()
    checker.read_other_yaml()
    checker.check_duplicates()
    checker.check_counts()
    checker.check_faq_topics()
    checker.check_contact_details()
    checker.report.problems = sorted(set(checker.report.problems))
    return checker.report


def main(argv: Optional[List[str]] = None) -> int:
    """Print every problem with its file, line and fix; exit 1 if there is any."""
    parser = argparse.ArgumentParser(
        prog="python -m staff_tools.check_data",
        description="Check training data, answers and FAQ topics; say what to fix and where.",
    )
    parser.add_argument("--project", type=Path, default=PROJECT_DIR,
                        help="the project folder (default: this project)")
    args = parser.parse_args(argv)
    root = args.project.resolve()
    if not (root / DOMAIN_FILE).is_file():
        print(f"error: {root} is not the assistant's project folder (no {DOMAIN_FILE})",
              file=sys.stderr)
        return 2
    report = check_project(root)
    if report.ok:
        print(report.summary())
        return 0
    for problem in report.problems:
        print(problem)
    count = len(report.problems)
    found = "1 problem found. Fix it" if count == 1 else f"{count} problems found. Fix them"
    print(f"\n{found}, then run `make validate` again. {GUIDE} explains each message.")
    return 1


if __name__ == "__main__":
    sys.exit(main())
