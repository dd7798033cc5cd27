"""Each training text's n-gram counts, kept between trainings: a new example is read alone.

Learning a tf-idf vocabulary counts every word and character n-gram of every text, and a
retraining after one new example did it for all of them, twice over (the crisis model reads
every intent example again, with their sentences): about 3 s of it. Here each text's counts
are kept, per analyzer (its settings), in `build/term-counts.pickle`, and a training analyses
only the texts it has not met.

The vocabulary and count matrix built from kept counts do not depend on what was kept: terms
are numbered alphabetically (scikit-learn sorts them so before it limits or weights them),
so the vectorizer learns scikit-learn's vocabulary and idf and the same counts
(tests/test_text_models.py), whether the file was empty, stale or full.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import numpy as np
import scipy.sparse as sp
import sklearn

from clinic.paths import PROJECT_DIR

logger = logging.getLogger(__name__)

# Where the components keep the counts (their `term_counts_file` setting), relative to the
# project; both components share it.
DEFAULT_FILE = "build/term-counts.pickle"

# When the file holds this many times more texts than the largest training that read it in a
# process, the texts that training did not read are dropped (edited or deleted examples).
KEEP_UP_TO = 3


def _joined(arrays: List[np.ndarray], dtype: Any) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.zeros(0, dtype)


def _used(numbers: np.ndarray, terms: int) -> np.ndarray:
    """The term numbers that occur in `numbers`, in order."""
    present = np.zeros(terms, dtype=bool)
    present[numbers] = True
    return np.flatnonzero(present)


class AnalyzerCounts:
    """The kept counts of one analyzer: each text's terms (by number) and their counts."""

    def __init__(self) -> None:
        self.terms: List[str] = []
        self.numbers: Dict[str, int] = {}
        self.rows: Dict[str, Tuple[np.ndarray, np.ndarray]] = {}
        self.added = False  # a text was analysed since the file was read
        self.most_read = 0  # the most texts one training read in this process
        self.read: Set[str] = set()

    def count(
        self, documents: Sequence[str], analyze: Callable[[str], Iterable[str]], dtype: Any,
    ) -> Tuple[Dict[str, int], sp.csr_matrix]:
        """(vocabulary, counts) as `CountVectorizer._count_vocab`, terms numbered alphabetically."""
        rows = [self._row(document, analyze) for document in documents]
        self.read.update(documents)
        self.most_read = max(self.most_read, len(documents))
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(numbers) for numbers, _ in rows], out=indptr[1:])
        numbers = _joined([n for n, _ in rows], np.int32)
        counts = _joined([c for _, c in rows], np.intc)
        used = _used(numbers, len(self.terms))
        if not len(used):
            raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
        terms = [self.terms[number] for number in used]
        order = sorted(range(len(terms)), key=terms.__getitem__)
        column = np.empty(len(self.terms), dtype=np.int32)
        column[used[order]] = np.arange(len(order), dtype=np.int32)
        index = np.int32 if indptr[-1] < np.iinfo(np.int32).max else np.int64
        matrix = sp.csr_matrix(
            (counts, column[numbers].astype(index, copy=False), indptr.astype(index)),
            shape=(len(rows), len(order)), dtype=dtype,
        )
        matrix.sort_indices()
        return {terms[i]: rank for rank, i in enumerate(order)}, matrix

    def _row(self, document: str, analyze: Callable[[str], Iterable[str]]
             ) -> Tuple[np.ndarray, np.ndarray]:
        row = self.rows.get(document)
        if row is None:
            counted = Counter(analyze(document))
            for term in counted:
                if term not in self.numbers:
                    self.numbers[term] = len(self.terms)
                    self.terms.append(term)
            row = self.rows[document] = (
                np.fromiter(map(self.numbers.__getitem__, counted), np.int32, len(counted)),
                np.fromiter(counted.values(), np.intc, len(counted)),
            )
            self.added = True
        return row

    def kept(self) -> Dict[str, Any]:
        """What the file keeps: the texts, their rows concatenated, and the terms they use."""
        texts = list(self.rows)
        if self.most_read and len(texts) > KEEP_UP_TO * self.most_read:
            texts = [text for text in texts if text in self.read]
        rows = [self.rows[text] for text in texts]
        numbers = _joined([n for n, _ in rows], np.int32)
        used = _used(numbers, len(self.terms))
        renumber = np.empty(len(self.terms), dtype=np.int32)
        renumber[used] = np.arange(len(used), dtype=np.int32)
        return {
            "terms": [self.terms[number] for number in used],
            "texts": texts,
            "lengths": np.array([len(n) for n, _ in rows], dtype=np.int64),
            "numbers": renumber[numbers],
            "counts": _joined([c for _, c in rows], np.intc),
        }

    @classmethod
    def from_kept(cls, kept: Dict[str, Any]) -> AnalyzerCounts:
        """The counts as `kept()` gave them."""
        counts = cls()
        counts.terms = list(kept["terms"])
        counts.numbers = {term: number for number, term in enumerate(counts.terms)}
        if kept["texts"]:
            bounds = np.cumsum(kept["lengths"])[:-1]
            rows = zip(np.split(kept["numbers"], bounds), np.split(kept["counts"], bounds),
                       strict=True)
            counts.rows = dict(zip(kept["texts"], rows, strict=True))
        return counts


def _version() -> str:
    """Counts are kept while the code that makes them is as when they were kept."""
    code = b"".join(
        (Path(__file__).parent / name).read_bytes() for name in ("term_counts.py", "text_models.py")
    )
    return hashlib.sha256(code + sklearn.__version__.encode()).hexdigest()[:16]


class TermCountStore:
    """The kept counts of every analyzer, read from and written to one file."""

    def __init__(self, path: Optional[Path] = None) -> None:
        self.path = path
        self.analyzers: Dict[str, AnalyzerCounts] = {}
        if path is not None:
            self._read(path)

    def counts(self, analyzer_key: str) -> AnalyzerCounts:
        """The kept counts of the analyzer with these settings (`_TfidfVectorizer`'s key)."""
        return self.analyzers.setdefault(analyzer_key, AnalyzerCounts())

    def _read(self, path: Path) -> None:
        try:
            with path.open("rb") as file:
                stored = pickle.load(file)
            if stored.get("version") != _version():
                return
            self.analyzers = {
                key: AnalyzerCounts.from_kept(kept) for key, kept in stored["analyzers"].items()
            }
        except FileNotFoundError:
            pass
        except Exception:  # an unreadable file: count afresh, and it is written again
            logger.debug("Term counts in %s unreadable; counting afresh.", path)
            self.analyzers = {}

    def save(self) -> None:
        """Write the file when a text was analysed (atomically: a reader never sees half)."""
        if self.path is None or not any(c.added for c in self.analyzers.values()):
            return
        stored = {"version": _version(),
                  "analyzers": {key: c.kept() for key, c in self.analyzers.items()}}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        with partial.open("wb") as file:
            pickle.dump(stored, file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, self.path)
        for counts in self.analyzers.values():
            counts.added = False


_OPEN: Dict[Path, TermCountStore] = {}


def store(path: Path) -> TermCountStore:
    """The store kept in `path`, read once per process (both models of a training share it)."""
    path = path.resolve()
    if path not in _OPEN:
        _OPEN[path] = TermCountStore(path)
    return _OPEN[path]


def kept_term_counts(config: Dict[str, Any]) -> Optional[TermCountStore]:
    """The store a component's `term_counts_file` names (relative to the project), if any."""
    name = config.get("term_counts_file")
    if not name:
        return None
    path = Path(name)
    return store(path if path.is_absolute() else PROJECT_DIR / path)
