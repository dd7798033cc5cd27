"""Editing the training data, the answers and the topics' settings, keeping comments and order.

The staff console (staff_console/) edits through this module, which has no web code:

    draft = Draft(project)
    draft.add_examples("faq/cost_insurance", ["does my plan pay for it"])
    draft.set_answer("cost_insurance", "Our article doesn't cover prices ...")
    problems = draft.problems()   # the data checker's new problems on an edited copy
    if not problems:
        paths = draft.save()       # then commit them (staff_tools.history)

A `Draft` holds the new texts of the files it changed and writes nothing until `save`. Each
edit loads the file with ruamel.yaml's round-trip mode, which keeps comments, order, quotes and
block styles: a file is edited only if loading and dumping it unchanged gives back the very
same text (otherwise `EditError`), so an edit changes only the lines it is about. A new topic's
blocks are added as text where its neighbours are, laid out as ruamel.yaml writes them.

Where things go (as docs/staff-guide.md describes for hand edits):

- examples of an intent or `faq/<key>` topic: the file under data/nlu/ that holds most of its
  examples (data/nlu/faq.yml for the FAQ topics, data/nlu/out_of_scope.yml for off-topic ...),
  at the end of its block; a new topic's block at the end of data/nlu/faq.yml;
- an answer: `utter_faq/<key>` under `responses:` in domain.yml, folded (`>-`) like the others;
  a new one after the last answer of its kind (answered by the article or not);
- title, answered_by_article and related: `<key>:` in settings/faq_topics.yml.

`problems()` runs `staff_tools.check_data.check_project` on a temporary copy of the project
with the edited files in place, and returns only the problems the edit brings (the ones the
project already had are not the editor's to fix). The field checks (`example_problems`,
`answer_problems`, `title_problems`, `key_problems`) cover what the data checker does not:
markup, entity marks, empty or multi-line values.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import textwrap
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
)

from staff_tools.check_data import Problem, check_project, comparable
from staff_tools.check_data.layout import (
    DOMAIN_FILE,
    FAQ_ANSWER_PREFIX,
    FAQ_INTENT,
    HELDOUT_NLU_GLOB,
    LANGUAGES_FILE,
    NLU_GLOB,
    OTHER_YAML_GLOBS,
    SETTINGS_FILE,
    STORY_GLOBS,
    TOPICS_FILE,
)

FAQ_FILE = "data/nlu/faq.yml"  # where a new topic's examples go
# Answers are folded at this many characters (8 spaces of indentation: 96 columns).
ANSWER_WIDTH = 88
MAX_EXAMPLE_CHARS = 500
MAX_TITLE_CHARS = 120
MAX_ANSWER_CHARS = 2000
KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{1,39}")
# Files that the data checker reads: a check copies them (and the edited ones) to a folder.
CHECKED_GLOBS = (NLU_GLOB, *STORY_GLOBS, *OTHER_YAML_GLOBS, HELDOUT_NLU_GLOB, DOMAIN_FILE,
                 TOPICS_FILE, SETTINGS_FILE, LANGUAGES_FILE)
# The layouts (mapping indent, sequence indent, dash offset) the project's YAML files use.
LAYOUTS = ((2, 2, 0), (2, 4, 2))
# Rasa reads `[text](entity)`, `[text]{...}` and `[text][...]` in an example as entity marks.
_ENTITY_MARK = re.compile(r"\[[^\]]*\]\s*[({\[]")
_MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z!?][^>]*>|&[a-zA-Z]+;|&#\d+;")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class EditError(Exception):
    """An edit that cannot be made (no such topic, an example already there ...): staff words."""


# ---- field checks (what the data checker does not look at) ---------------------------------

def _single_line_problems(text: str, what: str, limit: int) -> List[str]:
    problems = []
    if not text.strip():
        problems.append(f"The {what} is empty.")
    if "\n" in text.strip() or "\r" in text:
        problems.append(f"The {what} must be one line.")
    if len(text) > limit:
        problems.append(f"The {what} is {len(text)} characters long; keep it under {limit}.")
    return problems


def _common_problems(text: str, what: str) -> List[str]:
    problems = []
    if _MARKUP.search(text):
        problems.append(f"The {what} contains markup such as <b> or &amp;: the assistant shows "
                        "text exactly as written, so write plain text only.")
    if _CONTROL.search(text.replace("\n", "")):
        problems.append(f"The {what} contains invisible control characters: type it again.")
    return problems


def example_problems(text: str) -> List[str]:
    """What is wrong with an example's text (nothing: it can be added)."""
    problems = _single_line_problems(text, "example", MAX_EXAMPLE_CHARS)
    problems += _common_problems(text, "example")
    if _ENTITY_MARK.search(text):
        problems.append("The example contains square brackets followed by ( { or [, which the "
                        "assistant's training reads as a special mark: use round brackets.")
    return problems


def title_problems(text: str) -> List[str]:
    """What is wrong with a topic's title (the question its button shows and sends)."""
    return (_single_line_problems(text, "title", MAX_TITLE_CHARS)
            + _common_problems(text, "title") + (example_problems(text) if text.strip() else []))


def answer_problems(text: str) -> List[str]:
    """What is wrong with an answer's text (phone numbers and addresses: the data checker)."""
    problems = []
    if not text.strip():
        problems.append("The answer is empty.")
    if len(text) > MAX_ANSWER_CHARS:
        problems.append(f"The answer is {len(text)} characters long; keep it under "
                        f"{MAX_ANSWER_CHARS} (visitors read it in a small chat window).")
    return problems + _common_problems(text, "answer")


def key_problems(project: Path, key: str) -> List[str]:
    """What is wrong with a new topic's key (short name)."""
    if not KEY_PATTERN.fullmatch(key):
        return ["The short name must be 2 to 40 lowercase letters, digits or underscores, "
                "starting with a letter, e.g. tms_ect."]
    if key in read_topics(project) or f"{FAQ_ANSWER_PREFIX}{key}" in _responses(project):
        return [f"There is already a topic named {key}: choose another short name."]
    return []


def normalized_answer(text: str) -> str:
    """An answer as it is stored: paragraphs split at empty lines, spaces within them joined."""
    paragraphs = re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())
    return "\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def normalized_line(text: str) -> str:
    """An example or title as it is stored: one line, single spaces."""
    return " ".join(text.split())


# ---- reading ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExampleRef:
    """One example of an intent or topic, and the file (relative to the project) it is in."""

    text: str
    path: str


@dataclass(frozen=True)
class TopicEntry:
    """A topic's settings as settings/faq_topics.yml writes them."""

    key: str
    title: str
    answered_by_article: bool
    related: Tuple[str, ...]


@dataclass(frozen=True)
class TopicView:
    """Everything the topic page shows and edits."""

    entry: TopicEntry
    answer: str
    answer_variants: int  # how many texts the answer has (the console edits the first)
    examples: Tuple[ExampleRef, ...]

    @property
    def key(self) -> str:
        """The topic's short name."""
        return self.entry.key


def _load(text: str) -> Any:
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _read(project: Path, rel: str, overrides: Optional[Mapping[str, str]] = None) -> str:
    if overrides and rel in overrides:
        return overrides[rel]
    try:
        return (project / rel).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EditError(f"{rel} is missing: ask a developer to restore it") from None


def _parse(project: Path, rel: str, overrides: Optional[Mapping[str, str]] = None) -> Any:
    try:
        return _load(_read(project, rel, overrides))
    except yaml.YAMLError:
        raise EditError(f"{rel} cannot be read (broken YAML): run `make validate`, or ask a "
                        "developer") from None


def nlu_files(project: Path, overrides: Optional[Mapping[str, str]] = None) -> List[str]:
    """The training data files, relative to the project, in a stable order."""
    found = {path.relative_to(project).as_posix() for path in project.glob(NLU_GLOB)}
    found |= {rel for rel in (overrides or {}) if Path(rel).match(NLU_GLOB)}
    return sorted(found)


def _example_lines(value: Any) -> List[str]:
    if not isinstance(value, str):
        return []
    return [line.strip()[1:].strip() for line in value.splitlines()
            if line.strip().startswith("-") and line.strip()[1:].strip()]


def all_examples(project: Path,
                 overrides: Optional[Mapping[str, str]] = None) -> Dict[str, List[ExampleRef]]:
    """Every intent's and topic's examples, by label (`greet`, `faq/speed` ...)."""
    found: Dict[str, List[ExampleRef]] = {}
    for rel in nlu_files(project, overrides):
        content = _parse(project, rel, overrides)
        blocks = content.get("nlu") if isinstance(content, dict) else None
        for block in blocks if isinstance(blocks, list) else []:
            if isinstance(block, dict) and isinstance(block.get("intent"), str):
                found.setdefault(block["intent"].strip(), []).extend(
                    ExampleRef(text, rel) for text in _example_lines(block.get("examples")))
    return found


def read_topics(project: Path,
                overrides: Optional[Mapping[str, str]] = None) -> Dict[str, TopicEntry]:
    """The topics of settings/faq_topics.yml, in the file's order (not validated)."""
    content = _parse(project, TOPICS_FILE, overrides)
    topics: Dict[str, TopicEntry] = {}
    for key, entry in (content.items() if isinstance(content, dict) else []):
        entry = entry if isinstance(entry, dict) else {}
        related = entry.get("related")
        topics[str(key)] = TopicEntry(
            str(key), str(entry.get("title") or ""), entry.get("answered_by_article") is True,
            tuple(str(item) for item in related) if isinstance(related, list) else ())
    return topics


def _responses(project: Path, overrides: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    content = _parse(project, DOMAIN_FILE, overrides)
    responses = content.get("responses") if isinstance(content, dict) else None
    return dict(responses) if isinstance(responses, dict) else {}


def _answer_texts(variants: Any) -> List[str]:
    return [str(variant["text"]) for variant in (variants if isinstance(variants, list) else [])
            if isinstance(variant, dict) and isinstance(variant.get("text"), str)]


def read_topic(project: Path, key: str,
               overrides: Optional[Mapping[str, str]] = None) -> TopicView:
    """A topic's settings, answer and examples; `EditError` if there is no such topic."""
    topics = read_topics(project, overrides)
    if key not in topics:
        raise EditError(f"there is no topic named {key}")
    texts = _answer_texts(_responses(project, overrides).get(FAQ_ANSWER_PREFIX + key))
    examples = all_examples(project, overrides).get(f"{FAQ_INTENT}/{key}", [])
    return TopicView(topics[key], texts[0] if texts else "", len(texts), tuple(examples))


def home_file(project: Path, label: str,
              overrides: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The data/nlu file holding most of a label's examples: where new ones go."""
    counts = Counter(ref.path for ref in all_examples(project, overrides).get(label, []))
    if counts:
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[0][0]
    return None


# ---- round-trip editing -------------------------------------------------------------------

def _yaml(layout: Tuple[int, int, int]) -> YAML:
    handler = YAML()
    handler.preserve_quotes = True  # type: ignore[assignment]
    handler.width = 4096  # type: ignore[assignment]  # never re-wrap; answers fold themselves
    handler.indent(mapping=layout[0], sequence=layout[1], offset=layout[2])
    return handler


def _dump(handler: YAML, data: Any) -> str:
    out = io.StringIO()
    handler.dump(data, out)
    return out.getvalue()


class _Document:
    """One file loaded round-trip, with the layout that writes it back unchanged."""

    def __init__(self, rel: str, text: str) -> None:
        self.rel = rel
        for layout in LAYOUTS:
            handler = _yaml(layout)
            try:
                data = handler.load(text)
            except Exception as error:  # ruamel raises several unrelated types
                raise EditError(f"{rel} cannot be read (broken YAML): run `make validate`, "
                                "or ask a developer") from error
            if _dump(handler, data) == text:
                self.handler, self.data, self.layout = handler, data, layout
                return
        raise EditError(f"{rel} is laid out in a way the console cannot edit without "
                        "changing other lines: ask a developer to edit it by hand")

    def text(self) -> str:
        return _dump(self.handler, self.data)

    def fragment(self, data: Any) -> List[str]:
        """Lines of `data` as this file's layout writes them."""
        return _dump(_yaml(self.layout), data).splitlines(keepends=True)


def _folded(text: str, width: int = ANSWER_WIDTH) -> FoldedScalarString:
    """A folded (`>-`) block whose lines break at `width` characters, paragraphs kept."""
    scalar = FoldedScalarString(text)
    positions: List[int] = []
    offset = 0
    for paragraph in text.split("\n"):
        lines = textwrap.wrap(paragraph, width, break_long_words=False, break_on_hyphens=False)
        position = offset
        for line in lines[:-1]:
            position += len(line)
            positions.append(position)  # the space here becomes a line break
            position += 1
        offset += len(paragraph) + 1
    scalar.fold_pos = positions  # type: ignore[attr-defined]
    return scalar


def _flow_list(items: Sequence[str]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def _insert_lines(text: str, at: int, lines: Sequence[str]) -> str:
    """`lines` inserted before line `at` (counting from 0) of `text`."""
    current = text.splitlines(keepends=True)
    if current and not current[-1].endswith("\n"):
        current[-1] += "\n"
    return "".join(current[:at] + list(lines) + current[at:])


def _block_end(text: str, next_line: Optional[int]) -> int:
    """Where a block ends whose next key starts at `next_line` (None: the end of the file).

    That is before the blank and comment lines that lead into the next key.
    """
    lines = text.splitlines()
    end = len(lines) if next_line is None else next_line
    while end > 0 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    return end


# ---- the draft ----------------------------------------------------------------------------

_BASELINES: Dict[Tuple[str, Tuple[Tuple[str, int, int], ...]], List[Problem]] = {}


def _checked_files(project: Path) -> List[str]:
    found = set()
    for pattern in CHECKED_GLOBS:
        found |= {path.relative_to(project).as_posix() for path in project.glob(pattern)
                  if path.is_file()}
    return sorted(found)


def project_problems(project: Path) -> List[Problem]:
    """The data checker's problems on the project as it is (cached while its files are)."""
    signature = tuple((rel, (project / rel).stat().st_mtime_ns, (project / rel).stat().st_size)
                      for rel in _checked_files(project))
    cache_key = (str(project.resolve()), signature)
    if cache_key not in _BASELINES:
        _BASELINES.clear()
        _BASELINES[cache_key] = list(check_project(project).problems)
    return list(_BASELINES[cache_key])


def new_problems(before: Iterable[Problem], after: Iterable[Problem]) -> List[Problem]:
    """The problems of `after` that `before` did not have (lines may have moved)."""
    seen = Counter((problem.path, problem.what) for problem in before)
    fresh = []
    for problem in after:
        if seen[(problem.path, problem.what)]:
            seen[(problem.path, problem.what)] -= 1
        else:
            fresh.append(problem)
    return fresh


class Draft:
    """Edits of the project's files, held as their new texts until `save`."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.texts: Dict[str, str] = {}  # path relative to the project -> its new text
        self.descriptions: List[str] = []  # each edit in plain words, for the commit message

    # -- helpers
    def read(self, rel: str) -> str:
        """A file's text with this draft's edits."""
        return _read(self.project, rel, self.texts)

    def _document(self, rel: str) -> _Document:
        return _Document(rel, self.read(rel))

    def _put(self, document: _Document) -> None:
        self.texts[document.rel] = document.text()

    def changed(self) -> List[str]:
        """The files this draft changes (relative to the project), which differ from disk."""
        result = []
        for rel, text in sorted(self.texts.items()):
            path = self.project / rel
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                result.append(rel)
        return result

    def _label_exists(self, label: str) -> bool:
        return label in all_examples(self.project, self.texts)

    # -- examples
    def add_examples(self, label: str, texts: Sequence[str]) -> List[str]:
        """Add examples at the end of the label's block in its home file; returns those added.

        Texts already among the label's examples (compared as the data checker compares) are
        skipped; an example under another label is added, and `problems()` reports it.
        """
        rel = home_file(self.project, label, self.texts)
        if rel is None:
            raise EditError(f"there is no intent or topic named {label} with examples")
        existing = {comparable(ref.text) for ref in
                    all_examples(self.project, self.texts).get(label, [])}
        added: List[str] = []
        for raw in texts:
            text = normalized_line(raw)
            problems = example_problems(text)
            if problems:
                raise EditError(f"{text!r}: {problems[0]}")
            if comparable(text) not in existing:
                existing.add(comparable(text))
                added.append(text)
        if not added:
            return []
        document = self._document(rel)
        block = self._block(document, label)
        block["examples"] = LiteralScalarString(
            str(block.get("examples") or "") + "".join(f"- {text}\n" for text in added))
        self._put(document)
        self.descriptions.append(
            f"Added {_count(len(added), 'example')} to {label}: "
            + "; ".join(f"'{text}'" for text in added))
        return added

    def remove_example(self, label: str, text: str, rel: Optional[str] = None) -> None:
        """Remove one example of `label` (from `rel`, or from the file that has it)."""
        refs = [ref for ref in all_examples(self.project, self.texts).get(label, [])
                if ref.text == text and (rel is None or ref.path == rel)]
        if not refs:
            raise EditError(f"{label} has no example '{text}' (already removed?)")
        document = self._document(refs[0].path)
        block = self._block(document, label, containing=text)
        lines = str(block["examples"]).splitlines(keepends=True)
        index = next(i for i, line in enumerate(lines)
                     if line.strip().startswith("-") and line.strip()[1:].strip() == text)
        block["examples"] = LiteralScalarString("".join(lines[:index] + lines[index + 1:]))
        self._put(document)
        self.descriptions.append(f"Removed the example '{text}' from {label}")

    @staticmethod
    def _block(document: _Document, label: str, containing: Optional[str] = None) -> Any:
        blocks = document.data.get("nlu") if isinstance(document.data, dict) else None
        for block in blocks or []:
            if (isinstance(block, dict) and str(block.get("intent", "")).strip() == label
                    and (containing is None
                         or containing in _example_lines(str(block.get("examples") or "")))):
                return block
        raise EditError(f"{document.rel} has no block for {label}")

    # -- answers and topic settings
    def set_answer(self, key: str, text: str) -> bool:
        """Replace a topic's answer text (its first variant); False if it is unchanged."""
        text = normalized_answer(text)
        document = self._document(DOMAIN_FILE)
        responses = document.data.get("responses")
        variants = responses.get(FAQ_ANSWER_PREFIX + key) if responses else None
        if not variants or not isinstance(variants[0], dict) or "text" not in variants[0]:
            raise EditError(f"domain.yml has no answer {FAQ_ANSWER_PREFIX}{key}")
        if normalized_answer(str(variants[0]["text"])) == text:
            return False
        variants[0]["text"] = _folded(text)
        self._put(document)
        self.descriptions.append(f"Changed the answer of topic {key}")
        return True

    def set_topic(self, key: str, *, title: Optional[str] = None,
                  answered_by_article: Optional[bool] = None,
                  related: Optional[Sequence[str]] = None) -> List[str]:
        """Change a topic's title, answered_by_article or related topics; what changed.

        A new title that is not one of the topic's examples is added as one (its button
        sends exactly this text).
        """
        document = self._document(TOPICS_FILE)
        entry = document.data.get(key) if isinstance(document.data, dict) else None
        if not isinstance(entry, dict):
            raise EditError(f"{TOPICS_FILE} has no topic {key}")
        changed = []
        if title is not None and normalized_line(title) != str(entry.get("title") or ""):
            entry["title"] = DoubleQuotedScalarString(normalized_line(title))
            changed.append(f"title is now \"{normalized_line(title)}\"")
        if answered_by_article is not None and entry.get("answered_by_article") is not \
                answered_by_article:
            entry["answered_by_article"] = answered_by_article
            changed.append("the article answers it" if answered_by_article
                           else "the article does not answer it")
        if related is not None and list(related) != [str(r) for r in entry.get("related") or []]:
            entry["related"] = _flow_list(list(related))
            changed.append("related topics: " + (", ".join(related) or "none"))
        if changed:
            self._put(document)
            self.descriptions.append(f"Topic {key}: " + "; ".join(changed))
            if title is not None:
                self.add_examples(f"{FAQ_INTENT}/{key}", [title])
        return changed

    def new_topic(self, key: str, *, title: str, answer: str, answered_by_article: bool,
                  related: Sequence[str], examples: Sequence[str]) -> None:
        """A new FAQ topic: its examples, its answer and its settings, beside its neighbours."""
        problems = key_problems(self.project, key)
        if problems:
            raise EditError(problems[0])
        title, answer = normalized_line(title), normalized_answer(answer)
        texts = [title] + [normalized_line(text) for text in examples
                           if comparable(text) != comparable(title) and text.strip()]
        self._new_examples(key, texts)
        self._new_answer(key, answer, answered_by_article)
        self._new_entry(key, title, answered_by_article, related)
        self.descriptions.append(
            f"New topic {key} (\"{title}\") with {_count(len(texts), 'example')}")

    def _new_examples(self, key: str, texts: Sequence[str]) -> None:
        for text in texts:
            problems = example_problems(text)
            if problems:
                raise EditError(f"{text!r}: {problems[0]}")
        document = self._document(FAQ_FILE)
        data = CommentedMap()
        data["nlu"] = [CommentedMap([("intent", f"{FAQ_INTENT}/{key}"), ("examples",
                       LiteralScalarString("".join(f"- {text}\n" for text in texts)))])]
        lines = document.fragment(data)[1:]  # without "nlu:"
        # A top-level list item starts at the file's dash offset: strip the list's own indent.
        indent = len(lines[0]) - len(lines[0].lstrip()) - document.layout[2]
        block = [line[indent:] if line.strip() else line for line in lines]
        text = document.text()
        self.texts[FAQ_FILE] = text.rstrip("\n") + "\n\n" + "".join(block)
        _Document(FAQ_FILE, self.texts[FAQ_FILE])  # still read back unchanged

    def _new_answer(self, key: str, answer: str, answered_by_article: bool) -> None:
        document = self._document(DOMAIN_FILE)
        responses = document.data.get("responses")
        if responses is None:
            raise EditError("domain.yml has no 'responses:'")
        answered = {k for k, entry in read_topics(self.project, self.texts).items()
                    if entry.answered_by_article}
        names = list(responses)
        faq = [name for name in names if name.startswith(FAQ_ANSWER_PREFIX)]
        same_kind = [name for name in faq
                     if (name[len(FAQ_ANSWER_PREFIX):] in answered) == answered_by_article]
        after = (same_kind or faq or names)[-1]
        position = names.index(after)
        next_line = (responses.lc.key(names[position + 1])[0] if position + 1 < len(names)
                     else self._line_after(document, "responses"))
        text = document.text()
        end = _block_end(text, next_line)
        fragment = document.fragment(
            {FAQ_ANSWER_PREFIX + key: [CommentedMap([("text", _folded(answer))])]})
        indent = responses.lc.key(names[0])[1]
        lines = [" " * indent + line if line.strip() else line for line in fragment]
        self.texts[DOMAIN_FILE] = _insert_lines(text, end, lines)
        _Document(DOMAIN_FILE, self.texts[DOMAIN_FILE])

    @staticmethod
    def _line_after(document: _Document, top_key: str) -> Optional[int]:
        """The line of the top-level key after `top_key`, or None if it is the last."""
        keys = list(document.data)
        position = keys.index(top_key)
        return document.data.lc.key(keys[position + 1])[0] if position + 1 < len(keys) else None

    def _new_entry(self, key: str, title: str, answered_by_article: bool,
                   related: Sequence[str]) -> None:
        document = self._document(TOPICS_FILE)
        entry = CommentedMap([("title", DoubleQuotedScalarString(title)),
                              ("answered_by_article", answered_by_article),
                              ("related", _flow_list(list(related)))])
        text = document.text()
        self.texts[TOPICS_FILE] = text.rstrip("\n") + "\n" + "".join(
            document.fragment({key: entry}))
        _Document(TOPICS_FILE, self.texts[TOPICS_FILE])

    # -- checking and saving
    def problems(self) -> List[Problem]:
        """The data checker's problems that this draft would bring, on an edited copy."""
        if not self.changed():
            return []
        with tempfile.TemporaryDirectory(prefix="console-check-") as folder:
            root = Path(folder)
            for rel in sorted(set(_checked_files(self.project)) | set(self.texts)):
                target = root / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                if rel in self.texts:
                    target.write_text(self.texts[rel], encoding="utf-8")
                else:
                    target.symlink_to((self.project / rel).resolve())
            after = check_project(root).problems
        return new_problems(project_problems(self.project), after)

    def save(self) -> List[Path]:
        """Write the changed files (each replaced at once); the paths written."""
        written = []
        for rel in self.changed():
            path = self.project / rel
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    out.write(self.texts[rel])
                if path.exists():
                    os.chmod(temporary, path.stat().st_mode & 0o777)
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
            written.append(path)
        return written

    def summary(self) -> str:
        """The edits in plain words, one per line."""
        return "\n".join(self.descriptions)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
