"""The history of the assistant's data: every change a git commit, described in plain words.

    commit_change(project, [path, ...], "Added an example to Cost", "Ana", "ana@clinic.test")
    list_changes(project)              # newest first, each with its diff in plain words
    undo_change(project, sha, "Ana", "ana@clinic.test")   # a new commit that reverts one

The staff console saves each edit as one commit in the project's git repository, with the
staff member as its author, committing only the files it edited (other work in progress,
staged or not, is left as it is). The list shows the changes to the files staff edit (the
training data, answers, topics, settings and crisis phrases), each described by reading the
YAML before and after ("Added example “how much is it” to topic “How much does it cost?”"),
not as diff lines. Undoing a change is a new commit; the change stays in the history. When a
later change touched the same lines the undo is refused with a message saying so.

Plain `git` commands only (no library); the author is given on each command line, so no git
identity needs to be configured.
"""

from __future__ import annotations

import difflib
import fcntl
import json
import os
import subprocess
import tempfile
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import yaml

# The files and folders staff edit (through the console or by hand); only changes to these are
# listed, and only changes to nothing else can be undone from the console.
STAFF_PATHS = ("data", "domain.yml", "settings", "patterns")
NLU_PREFIX = "data/nlu/"
TOPICS_FILE = "settings/faq_topics.yml"
CRISIS_PATTERNS_FILE = "patterns/crisis.yml"
DOMAIN_FILE = "domain.yml"
REVERTS = "This reverts commit "
MAX_DETAILS = 30
QUOTE_LENGTH = 90
SEPARATOR, END = "\x1f", "\x1e"


class HistoryError(Exception):
    """Something staff should be told about the history, in plain words."""


class NoChanges(HistoryError):
    """The files to save are the same as in the last saved change."""


class UndoConflict(HistoryError):
    """A later change touched the same part of the files: the undo would not be clean."""


@dataclass(frozen=True)
class Change:
    """One saved change: who, when, what (the summary) and its diff in plain words."""

    sha: str
    author: str
    when: datetime
    summary: str
    details: List[str]  # "Added example “x” to topic “Cost”", one line each
    author_email: str = ""
    files: List[str] = field(default_factory=list)
    undoes: Optional[str] = None  # the sha this change undid, if it is an undo
    undone_by: Optional[str] = None  # the sha of the change that undid this one, if listed
    can_undo: bool = True  # False when it touched more than the staff-edited files


# ---- git ---------------------------------------------------------------------------------

def _run(
    project: Path, args: Sequence[str], env: Optional[Mapping[str, str]],
    stdin: Optional[bytes],
) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-C", str(project), *args], input=stdin, capture_output=True,
        env={**os.environ, "LC_ALL": "C", **(env or {})}, check=False,
    )


def _git_bytes(
    project: Path, *args: str, env: Optional[Mapping[str, str]] = None,
    stdin: Optional[bytes] = None,
) -> bytes:
    """The output of `git args...` in the project; `HistoryError` if it fails."""
    completed = _run(project, args, env, stdin)
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", errors="replace").strip()
        raise HistoryError(f"git {args[0]} failed: {message[:500]}")
    return bytes(completed.stdout)


def _git(
    project: Path, *args: str, env: Optional[Mapping[str, str]] = None,
    stdin: Optional[bytes] = None,
) -> str:
    return _git_bytes(project, *args, env=env, stdin=stdin).decode("utf-8", errors="replace")


def _ok(
    project: Path, *args: str, env: Optional[Mapping[str, str]] = None,
    stdin: Optional[bytes] = None,
) -> bool:
    """Whether `git args...` succeeds."""
    return _run(project, args, env, stdin).returncode == 0


def _identity(name: str, email: str) -> List[str]:
    """`-c user.name=... -c user.email=...`: the staff member as author and committer."""
    name, email = " ".join(name.split()), email.strip()
    if not name or not email or any(c in name + email for c in "<>\n"):
        raise HistoryError("a change needs the staff member's name and e-mail address")
    return ["-c", f"user.name={name}", "-c", f"user.email={email}"]


def _check_repository(project: Path) -> None:
    try:
        top = _git(project, "rev-parse", "--show-toplevel").strip()
    except (HistoryError, FileNotFoundError):
        raise HistoryError(
            f"{project} is not kept in git, so changes cannot be recorded: a developer must "
            "set it up as a git repository (a clone of the project)"
        ) from None
    if Path(top).resolve() != project.resolve():
        raise HistoryError(f"{project} is not the top folder of its git repository ({top})")


@contextmanager
def _locked(project: Path) -> Iterator[None]:
    """One change at a time (the console may save from several threads or processes)."""
    git_dir = Path(_git(project, "rev-parse", "--absolute-git-dir").strip())
    with open(git_dir / "staff-console.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def head_commit(project: Path) -> Optional[str]:
    """The sha of the last commit, None if there is none (or no repository)."""
    try:
        return _git(project, "rev-parse", "--verify", "--quiet", "HEAD").strip() or None
    except (HistoryError, FileNotFoundError):
        return None


def _relative(project: Path, paths: Sequence[Path]) -> List[str]:
    root = project.resolve()
    relative = []
    for path in paths:
        full = (path if path.is_absolute() else root / path).resolve()
        if full != root and root not in full.parents:
            raise HistoryError(f"{path} is outside the project folder")
        relative.append(full.relative_to(root).as_posix())
    if not relative:
        raise HistoryError("no file to save was given")
    return sorted(set(relative))


def _is_staff_path(path: str) -> bool:
    return any(path == staff or path.startswith(staff + "/") for staff in STAFF_PATHS)


# ---- saving a change ---------------------------------------------------------------------

def commit_change(
    project: Path, paths: Sequence[Path], summary: str, author_name: str, author_email: str,
) -> str:
    """Commit the files at `paths` (only those) with `summary`; return the new commit's sha.

    New and deleted files are included. Raises `NoChanges` when the files are as last saved.
    """
    _check_repository(project)
    files = _relative(project, paths)
    summary = " ".join(summary.split()) or "Changed " + ", ".join(files)
    identity = _identity(author_name, author_email)
    with _locked(project):
        _git(project, "add", "--all", "--", *files)
        staged = (["diff", "--cached", "--name-only", "HEAD"] if head_commit(project)
                  else ["ls-files", "--cached"])
        if not _git(project, *staged, "--", *files).strip():
            raise NoChanges("nothing to save: the files are as they were last saved")
        # `--only` commits these paths and nothing else that happens to be staged.
        _git(project, *identity, "commit", "--quiet", "--only", "-m", summary, "--", *files)
        return _git(project, "rev-parse", "HEAD").strip()


# ---- listing changes ---------------------------------------------------------------------

def list_changes(project: Path, limit: int = 50) -> List[Change]:
    """The latest `limit` changes to the staff-edited files, newest first."""
    _check_repository(project)
    if head_commit(project) is None:
        return []
    log = _git(
        project, "log", f"--max-count={limit}", "--no-merges",
        f"--format=%H{SEPARATOR}%P{SEPARATOR}%an{SEPARATOR}%ae{SEPARATOR}%aI{SEPARATOR}%s"
        f"{SEPARATOR}%b{END}", "--", *STAFF_PATHS,
    )
    changes: List[Change] = []
    for record in log.split(END):
        if not record.strip():
            continue
        sha, parents, name, email, when, subject, body = record.strip("\n").split(SEPARATOR)
        parent = parents.split()[0] if parents.split() else None
        files, details = _described_commit(project, sha, parent)
        undoes = next((line[len(REVERTS):].rstrip(".").strip() for line in body.splitlines()
                       if line.startswith(REVERTS)), None)
        changes.append(Change(
            sha=sha, author=name, when=datetime.fromisoformat(when), summary=subject,
            details=details, author_email=email, files=files, undoes=undoes,
            can_undo=all(_is_staff_path(path) for path in files),
        ))
    undone = {change.undoes: change.sha for change in changes if change.undoes}
    return [replace(change, undone_by=undone.get(change.sha)) for change in changes]


_DESCRIBED: Dict[Tuple[str, str], Tuple[List[str], List[str]]] = {}


def _described_commit(
    project: Path, sha: str, parent: Optional[str],
) -> Tuple[List[str], List[str]]:
    """(files changed, the change in plain words); commits never change, so it is cached."""
    key = (str(project.resolve()), sha)
    if key not in _DESCRIBED:
        before = parent or _empty_tree(project)
        files = _changed_files(project, before, sha)
        staff = [path for path in files if _is_staff_path(path)]
        edits = _edits(project, before, sha, staff)
        details = _render(edits, _topic_titles(project, before, sha))
        if len(staff) < len(files):
            count = len(files) - len(staff)
            details.append(f"Also changed {count} program file{'s' if count > 1 else ''} "
                           "(a developer's change)")
        _DESCRIBED[key] = (files, details)
    files, details = _DESCRIBED[key]
    return list(files), list(details)


def describe_change(project: Path, sha: str) -> List[str]:
    """The change made by commit `sha`, in plain words."""
    full, *parents = _git(project, "rev-list", "--parents", "-n", "1", sha).split()
    return _described_commit(project, full, parents[0] if parents else None)[1]


def _empty_tree(project: Path) -> str:
    return _git(project, "hash-object", "-t", "tree", "--stdin", stdin=b"").strip()


def _changed_files(project: Path, before: str, after: str) -> List[str]:
    out = _git(project, "diff-tree", "-r", "--no-renames", "--name-only", "-z", before, after)
    return sorted(path for path in out.split("\0") if path)


def _blobs(project: Path, specs: Sequence[str]) -> Dict[str, Optional[str]]:
    """The text of each `rev:path` in `specs` (None where the file does not exist)."""
    if not specs:
        return {}
    out = _git_bytes(project, "cat-file", "--batch", stdin="".join(f"{s}\n" for s in specs)
                     .encode("utf-8"))
    texts: Dict[str, Optional[str]] = {}
    position = 0
    for spec in specs:
        header_end = out.index(b"\n", position)
        header = out[position:header_end].decode("utf-8", errors="replace")
        position = header_end + 1
        if header.endswith(" missing") or header.endswith(" ambiguous"):
            texts[spec] = None
            continue
        size = int(header.rsplit(" ", 1)[1])
        texts[spec] = out[position:position + size].decode("utf-8", errors="replace")
        position += size + 1
    return texts


# ---- the diff in plain words -------------------------------------------------------------

@dataclass(frozen=True, order=True)
class Edit:
    """One change to the data, as staff think of it."""

    what: str  # example, answer, title, related, article, topic, setting, item, phrase,
    #            rule, story, file
    kind: str  # added, removed, changed
    where: str  # the topic or intent (faq/<key>), answer name, setting, file...
    text: str = ""  # the example, phrase or item added or removed
    old: str = ""  # for a change: before
    new: str = ""  # for a change: after

    def inverse(self) -> Edit:
        """The edit that takes it back."""
        kind = {"added": "removed", "removed": "added"}.get(self.kind, self.kind)
        return Edit(self.what, kind, self.where, self.text, self.new, self.old)


def _edits(project: Path, before: str, after: str, files: Sequence[str]) -> List[Edit]:
    """What changed in `files` between the trees (or commits) `before` and `after`."""
    specs = [f"{rev}:{path}" for path in files for rev in (before, after)]
    texts = _blobs(project, specs)
    pairs = {path: (texts[f"{before}:{path}"], texts[f"{after}:{path}"]) for path in files}
    edits: List[Edit] = []
    nlu = {path: pair for path, pair in pairs.items()
           if path.startswith(NLU_PREFIX) and path.endswith((".yml", ".yaml"))}
    if nlu:
        try:
            edits += sorted(_example_edits(nlu))
        except ValueError:
            edits += [edit for path, pair in nlu.items() for edit in _file_edits(path, *pair)]
    for path, (old, new) in pairs.items():
        if path in nlu:
            continue
        try:
            edits += sorted(_yaml_edits(path, old, new))
        except ValueError:
            edits += _file_edits(path, old, new)
    return edits


def _load(text: Optional[str]) -> Any:
    if text is None:
        return None
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as error:
        raise ValueError(str(error)) from None


def _examples(text: Optional[str]) -> Counter:
    """(label, example) counts of a Rasa NLU file; ValueError if it is not one."""
    data = _load(text) or {}
    if not isinstance(data, dict):
        raise ValueError("not an NLU file")
    found: Counter = Counter()
    for block in data.get("nlu") or []:
        if not isinstance(block, dict):
            raise ValueError("not an NLU block")
        kind = next((k for k in ("intent", "synonym", "regex", "lookup") if k in block), None)
        if kind is None:
            continue
        label = str(block[kind]) if kind == "intent" else f"{kind}:{block[kind]}"
        examples = block.get("examples") or ""
        items = examples.splitlines() if isinstance(examples, str) else [
            str(item.get("text", "")) if isinstance(item, dict) else str(item) for item in examples
        ]
        for line in items:
            line = line.strip()
            if isinstance(examples, str):
                if not line.startswith("-"):
                    continue
                line = line[1:].strip()
            if line:
                found[(label, line)] += 1
    return found


def _example_edits(pairs: Mapping[str, Tuple[Optional[str], Optional[str]]]) -> List[Edit]:
    before: Counter = Counter()
    after: Counter = Counter()
    for old, new in pairs.values():
        before += _examples(old)
        after += _examples(new)
    edits = [Edit("example", "added", label, text)
             for (label, text), n in (after - before).items() for _ in range(n)]
    edits += [Edit("example", "removed", label, text)
              for (label, text), n in (before - after).items() for _ in range(n)]
    return edits


def _yaml_edits(path: str, old_text: Optional[str], new_text: Optional[str]) -> List[Edit]:
    if not path.endswith((".yml", ".yaml")):
        raise ValueError("not YAML")
    old, new = _load(old_text), _load(new_text)
    if old_text is None or new_text is None:
        # A whole file added or removed: say so, with what it holds where that is short.
        return [Edit("file", "added" if old_text is None else "removed", path)]
    if not isinstance(old, dict) or not isinstance(new, dict):
        return _setting_edits(old, new, "")
    if path == TOPICS_FILE:
        return _topic_edits(old, new)
    if any(key in data for key in ("rules", "stories") for data in (old, new)):
        return _story_edits(old, new)
    if path == DOMAIN_FILE:
        old, new = dict(old), dict(new)
        answers = _answer_edits(_mapping(old.pop("responses", None)),
                                _mapping(new.pop("responses", None)))
        return answers + _setting_edits(old, new, "")
    return _setting_edits(old, new, "phrase" if path == CRISIS_PATTERNS_FILE else "")


def _mapping(value: Any) -> Dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _answer_text(variants: Any) -> str:
    if not isinstance(variants, list):
        return str(variants)
    return " / ".join(str(v.get("text", "")) if isinstance(v, dict) else str(v)
                      for v in variants)


def _answer_edits(old: Mapping[str, Any], new: Mapping[str, Any]) -> List[Edit]:
    edits = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            edits.append(Edit("answer", "added", name, new=_answer_text(new[name])))
        elif name not in new:
            edits.append(Edit("answer", "removed", name, old=_answer_text(old[name])))
        elif not _same(old[name], new[name]):
            edits.append(Edit("answer", "changed", name, old=_answer_text(old[name]),
                              new=_answer_text(new[name])))
    return edits


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def _topic_edits(old: Mapping[str, Any], new: Mapping[str, Any]) -> List[Edit]:
    edits = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if not isinstance(before, dict) or not isinstance(after, dict):
            if before is None:
                edits.append(Edit("topic", "added", key, str((after or {}).get("title", ""))
                                  if isinstance(after, dict) else ""))
            elif after is None:
                edits.append(Edit("topic", "removed", key, str(before.get("title", ""))
                                  if isinstance(before, dict) else ""))
            continue
        if before.get("title") != after.get("title"):
            edits.append(Edit("title", "changed", key, old=str(before.get("title", "")),
                              new=str(after.get("title", ""))))
        if list(before.get("related") or []) != list(after.get("related") or []):
            edits.append(Edit("related", "changed", key,
                              old=", ".join(map(str, before.get("related") or [])),
                              new=", ".join(map(str, after.get("related") or []))))
        if before.get("answered_by_article") != after.get("answered_by_article"):
            edits.append(Edit("article", "changed", key, old=str(before.get("answered_by_article")),
                              new=str(after.get("answered_by_article"))))
        others = {k for k in set(before) | set(after)
                  if k not in ("title", "related", "answered_by_article")}
        edits += _setting_edits({k: before.get(k) for k in others},
                                {k: after.get(k) for k in others}, "", prefix=f"{key}.")
    return edits


def _story_edits(old: Mapping[str, Any], new: Mapping[str, Any]) -> List[Edit]:
    edits = []
    for what, section in (("rule", "rules"), ("story", "stories")):
        before = {str(item.get(what)): item for item in old.get(section) or []
                  if isinstance(item, dict)}
        after = {str(item.get(what)): item for item in new.get(section) or []
                 if isinstance(item, dict)}
        for name in sorted(set(before) | set(after)):
            if name not in before:
                edits.append(Edit(what, "added", name))
            elif name not in after:
                edits.append(Edit(what, "removed", name))
            elif not _same(before[name], after[name]):
                edits.append(Edit(what, "changed", name))
    rest_old = {k: v for k, v in old.items() if k not in ("rules", "stories")}
    rest_new = {k: v for k, v in new.items() if k not in ("rules", "stories")}
    return edits + _setting_edits(rest_old, rest_new, "")


def _flatten(value: Any, prefix: str = "") -> Dict[str, Any]:
    if isinstance(value, dict) and value:
        flat: Dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): value} if prefix else {"": value}


def _scalar_list(value: Any) -> bool:
    return isinstance(value, list) and all(not isinstance(v, dict | list) for v in value)


def _setting_edits(old: Any, new: Any, item_word: str, prefix: str = "") -> List[Edit]:
    """Settings changed, added or removed; items added to or removed from lists."""
    before, after = _flatten(old, prefix), _flatten(new, prefix)
    edits = []
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        if _same(a, b):
            continue
        if _scalar_list(a) or _scalar_list(b):
            if (a is None or _scalar_list(a)) and (b is None or _scalar_list(b)):
                gone, came = Counter(map(_plain, a or [])), Counter(map(_plain, b or []))
                edits += [Edit(item_word or "item", "added", key, text)
                          for text, n in (came - gone).items() for _ in range(n)]
                edits += [Edit(item_word or "item", "removed", key, text)
                          for text, n in (gone - came).items() for _ in range(n)]
                continue
        edits.append(Edit("setting", "added" if key not in before else
                          "removed" if key not in after else "changed",
                          key, old=_plain(a), new=_plain(b)))
    return edits


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _file_edits(path: str, old: Optional[str], new: Optional[str]) -> List[Edit]:
    if old is None:
        return [Edit("file", "added", path)]
    if new is None:
        return [Edit("file", "removed", path)]
    diff = list(difflib.ndiff(old.splitlines(), new.splitlines()))
    added = sum(line.startswith("+ ") for line in diff)
    removed = sum(line.startswith("- ") for line in diff)
    return [Edit("file", "changed", path, old=str(removed), new=str(added))]


# ---- rendering -----------------------------------------------------------------------------

def _topic_titles(project: Path, before: str, after: str) -> Dict[str, str]:
    texts = _blobs(project, [f"{before}:{TOPICS_FILE}", f"{after}:{TOPICS_FILE}"])
    titles: Dict[str, str] = {}
    for text in texts.values():
        try:
            data = _load(text) or {}
        except ValueError:
            continue
        if isinstance(data, dict):
            titles.update({str(k): str(v.get("title")) for k, v in data.items()
                           if isinstance(v, dict) and v.get("title")})
    return titles


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _quote(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > QUOTE_LENGTH:
        text = text[: QUOTE_LENGTH - 1].rstrip() + "…"
    return f"“{text}”"


def _label_words(label: str, titles: Mapping[str, str]) -> str:
    if label.startswith("faq/"):
        key = label[4:]
        return f"topic {_quote(titles[key])}" if key in titles else f"topic {key}"
    if ":" in label:
        kind, name = label.split(":", 1)
        return f"{kind} {_quote(name)}"
    return f"intent {label}"


def _answer_words(name: str, titles: Mapping[str, str]) -> str:
    if name.startswith("utter_faq/"):
        return _first_upper(_label_words("faq/" + name[len("utter_faq/"):], titles))
    return f"Reply {name}"


def _words(edit: Edit, titles: Mapping[str, str]) -> str:
    topic = _label_words("faq/" + edit.where, titles)
    if edit.what == "example":
        to = "to" if edit.kind == "added" else "from"
        return f"{edit.kind.capitalize()} example {_quote(edit.text)} {to} " \
               f"{_label_words(edit.where, titles)}"
    if edit.what == "answer":
        subject = _answer_words(edit.where, titles)
        if edit.kind == "changed":
            return f"{subject}: answer changed to {_quote(edit.new)}"
        if edit.kind == "added":
            return f"{subject}: new answer {_quote(edit.new)}"
        return f"{subject}: answer removed"
    if edit.what == "topic":
        name = _quote(edit.text) if edit.text else edit.where
        return f"New topic {name}" if edit.kind == "added" else f"Removed topic {name}"
    if edit.what == "title":
        return f"Topic {_quote(edit.old)}: button title changed to {_quote(edit.new)}"
    if edit.what == "related":
        now = ", ".join(_quote(titles.get(k.strip(), k.strip())) for k in edit.new.split(",")
                        if k.strip()) or "none"
        return f"{_first_upper(topic)}: related topics now {now}"
    if edit.what == "article":
        answered = edit.new in ("True", "yes")
        return f"{_first_upper(topic)}: " + (
            "now marked as answered by the article" if answered else
            "now marked as not answered by the article (booking and phone offered)")
    if edit.what == "phrase":
        to = "to" if edit.kind == "added" else "from"
        return f"{edit.kind.capitalize()} crisis phrase {_quote(edit.text)} {to} {edit.where}"
    if edit.what == "item":
        to = "to" if edit.kind == "added" else "from"
        return f"{edit.kind.capitalize()} {_quote(edit.text)} {to} {edit.where}"
    if edit.what in ("rule", "story"):
        return f"{edit.kind.capitalize()} {edit.what} {_quote(edit.where)}"
    if edit.what == "setting":
        if edit.kind == "changed":
            return f"Setting {edit.where} changed from {_quote(edit.old)} to {_quote(edit.new)}"
        if edit.kind == "added":
            return f"Setting {edit.where} added: {_quote(edit.new)}"
        return f"Setting {edit.where} removed"
    if edit.kind == "changed":
        return f"File {edit.where} changed ({edit.new} lines added, {edit.old} removed)"
    return f"{edit.kind.capitalize()} file {edit.where}"


def _render(edits: Sequence[Edit], titles: Mapping[str, str]) -> List[str]:
    """One line per edit; many examples added to one label become one line."""
    lines: List[str] = []
    grouped: Dict[Tuple[str, str], List[Edit]] = {}
    for edit in edits:
        if edit.what == "example":
            grouped.setdefault((edit.kind, edit.where), []).append(edit)
    done = set()
    for edit in edits:
        group = grouped.get((edit.kind, edit.where)) if edit.what == "example" else None
        if group and len(group) > 5:
            if (edit.kind, edit.where) in done:
                continue
            done.add((edit.kind, edit.where))
            shown = ", ".join(_quote(e.text) for e in group[:3])
            to = "to" if edit.kind == "added" else "from"
            lines.append(f"{edit.kind.capitalize()} {len(group)} examples {to} "
                         f"{_label_words(edit.where, titles)} ({shown}, …)")
            continue
        lines.append(_words(edit, titles))
    if len(lines) > MAX_DETAILS:
        lines = lines[: MAX_DETAILS - 1] + [f"… and {len(lines) - MAX_DETAILS + 1} more changes"]
    return lines


# ---- undoing a change ----------------------------------------------------------------------

def undo_change(project: Path, sha: str, author_name: str, author_email: str) -> str:
    """Commit the reverse of change `sha` (its files only); return the new commit's sha.

    Raises `UndoConflict` when a later change touched the same part of the files, and
    `HistoryError` for a change that cannot be undone here (it touched the assistant's program,
    or the files have edits not yet saved).
    """
    _check_repository(project)
    identity = _identity(author_name, author_email)
    with _locked(project):
        if not _ok(project, "rev-parse", "--verify", "--quiet", f"{sha}^{{commit}}"):
            raise HistoryError(f"there is no change {sha[:12]} in the history")
        full = _git(project, "rev-parse", f"{sha}^{{commit}}").strip()
        parents = _git(project, "rev-list", "--parents", "-n", "1", full).split()[1:]
        if len(parents) > 1:
            raise HistoryError("this is a merge of two lines of work; a developer must undo it")
        before = parents[0] if parents else _empty_tree(project)
        files = _changed_files(project, before, full)
        outside = [path for path in files if not _is_staff_path(path)]
        if outside:
            raise HistoryError(
                "this change also changed the assistant's program ("
                + ", ".join(outside[:5]) + "); a developer must undo it"
            )
        unsaved = _git(project, "status", "--porcelain", "--", *files).strip()
        if unsaved:
            changed = sorted({line[3:] for line in unsaved.splitlines()})
            raise HistoryError(
                "these files have edits that are not saved in the history yet: "
                + ", ".join(changed) + "; save or discard them first"
            )
        head = _git(project, "rev-parse", "HEAD").strip()
        expected = sorted(edit.inverse() for edit in _edits(project, before, full, files))
        tree = _reverse_tree(project, before, full, head, files, expected)
        if tree is None:
            raise UndoConflict(
                "a later change edited the same part of the files, so this change cannot be "
                "undone on its own; undo the later change first, or make the edit by hand"
            )
        subject = _git(project, "log", "-1", "--format=%s", full).strip()
        message = f"Undo: {subject}\n\n{REVERTS}{full}.\n"
        commit = _git(project, *identity, "commit-tree", tree, "-p", head, "-m", message).strip()
        _git(project, "update-ref", "-m", f"undo {full[:12]}", "HEAD", commit, head)
        _checkout(project, commit, files)
        return commit


def _reverse_tree(
    project: Path, before: str, after: str, head: str, files: Sequence[str],
    expected: Sequence[Edit],
) -> Optional[str]:
    """The tree of HEAD with the change reversed, or None when that is not clean.

    First a three-way merge of each file (as `git revert` does), then, for a neighbouring line
    changed since (which a merge counts as a conflict), the reverse patch without context
    lines. Each result must be exactly the change taken back, read as YAML, or it is refused.
    """
    for attempt in (_merged_tree, _zero_context_tree):
        with tempfile.TemporaryDirectory() as folder:
            env = {"GIT_INDEX_FILE": str(Path(folder) / "index")}
            _git(project, "read-tree", head, env=env)
            if not attempt(project, before, after, head, files, env, Path(folder)):
                continue
            tree = _git(project, "write-tree", env=env).strip()
        if sorted(_edits(project, head, tree, files)) == sorted(expected):
            return tree
    return None


def _merged_tree(
    project: Path, before: str, after: str, head: str, files: Sequence[str],
    env: Mapping[str, str], folder: Path,
) -> bool:
    """Merge `after` -> `before` into HEAD's version of each file, in the index `env` names."""
    specs = [f"{rev}:{path}" for path in files for rev in (before, after, head)]
    texts = _blobs(project, specs)
    for path in files:
        theirs, base, ours = (texts[f"{rev}:{path}"] for rev in (before, after, head))
        if base is None or theirs is None or ours is None:
            # The change added or removed the whole file: only undone if untouched since.
            if ours != base:
                return False
            merged = theirs
        else:
            copies = []
            for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
                copy = folder / name
                copy.write_text(text, encoding="utf-8")
                copies.append(str(copy))
            if not _ok(project, "merge-file", "--quiet", *copies):
                return False
            merged = Path(copies[0]).read_text(encoding="utf-8")
        if merged is None:
            _git(project, "update-index", "--force-remove", "--", path, env=env)
            continue
        blob = _git(project, "hash-object", "-w", "--stdin", stdin=merged.encode("utf-8"))
        _git(project, "update-index", "--add", "--cacheinfo", f"100644,{blob.strip()},{path}",
             env=env)
    return True


def _zero_context_tree(
    project: Path, before: str, after: str, head: str, files: Sequence[str],
    env: Mapping[str, str], folder: Path,
) -> bool:
    """Apply the reverse patch without context lines to the index `env` names."""
    patch = _git_bytes(project, "diff", "--binary", "--full-index", "-U0", before, after,
                       "--", *files)
    return _ok(project, "apply", "--cached", "--reverse", "--unidiff-zero",
               "--whitespace=nowarn", "-", env=env, stdin=patch)


def _checkout(project: Path, commit: str, files: Sequence[str]) -> None:
    """Bring the working files (and their index entries) to `commit`'s version."""
    present = set(_git(project, "ls-tree", "-r", "--name-only", "-z", commit, "--", *files)
                  .split("\0")) - {""}
    if present:
        _git(project, "checkout", commit, "--", *sorted(present))
    for path in sorted(set(files) - present):
        _git(project, "rm", "--quiet", "--cached", "--ignore-unmatch", "--", path)
        (project / path).unlink(missing_ok=True)
