"""The two classifiers behind the NLU, in plain scikit-learn.

The Rasa components, the cross-validation script and the tests share them.

Both read a message two ways: its MiniLM sentence vector (meaning: "unalive myself" lands near
"kill myself" though no one wrote it down) and tf-idf over words and character n-grams (the
exact words, misspellings, Spanish, which the English sentence model knows little about).
A linear SVM over both, calibrated by cross-validation (`CalibratedClassifierCV`, sigmoid,
`ensemble=False`: one SVM fitted on every example, its sigmoid fitted on the three folds'
predictions), gives probabilities that a threshold can be set on, and trains in seconds on 2
cores (a logistic regression over the same features scored the same and took ten times
longer). The SVM is solved by clinic_nlp/dual_svm.py, which starts a retraining from the last
training's solution. One SVM rather than the three folds' average: a third of the size and of
the time per message, and no worse on the dev sets (docs/understanding.md).

- `IntentModel`: one label per answer: `faq/<key>` for each FAQ topic, else the intent.
- `CrisisModel`: `none`, `crisis` or `emergency`, scored on the whole message and on each
  sentence of it (`segments`), so one crisis sentence inside a long question is not diluted.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence, Tuple

import joblib
import numpy as np
import scipy.sparse as sp
from joblib import parallel_backend
from scipy.special import expit
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV, _CalibratedClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from clinic_nlp import dual_svm
from clinic_nlp.dual_svm import DualLinearSVC, Duals, duals_file, read_duals, write_duals
from clinic_nlp.term_counts import TermCountStore

Embed = Callable[[Sequence[str]], np.ndarray]
# The source files a trained classifier depends on besides its component's own
# (`clinic_nlp.stored.code_fingerprint`).
TRAINING_SOURCES = (__file__, dual_svm.__file__, str(dual_svm.SOURCE))


class _TfidfVectorizer(TfidfVectorizer):
    """`TfidfVectorizer` that learns its vocabulary in a third less time, with the same result.

    Learning the vocabulary (scikit-learn's `_count_vocab`) is most of a training's tf-idf
    time, and it is Python: a loop over every n-gram of every text, and for character
    n-grams a `while` loop that slices each word. Here each text's n-grams are counted by
    `collections.Counter` and looked up with `map` (both in C), and a word's character
    n-grams are sliced in a list comprehension. Terms are numbered in the same order
    (first seen, text after text) and the counts are the same, so the vocabulary, the idf
    and the matrix are scikit-learn's to the bit (tests/test_text_models.py compares them);
    transforming with a learnt vocabulary is scikit-learn's own.
    """

    # While set (by `_Features.fit_transform`), the counts kept between trainings: only the
    # texts not met before are analysed (clinic_nlp/term_counts.py).
    term_counts: Optional[TermCountStore] = None

    def _count_vocab(self, raw_documents: Any, fixed_vocab: bool) -> Tuple[dict, sp.csr_matrix]:
        if fixed_vocab:
            return super()._count_vocab(raw_documents, fixed_vocab)
        key = self._analyzer_key()
        if self.term_counts is not None and key is not None:
            return self.term_counts.counts(key).count(
                list(raw_documents), self.build_analyzer(), self.dtype)
        vocabulary: defaultdict = defaultdict()
        vocabulary.default_factory = vocabulary.__len__  # a new term gets the next number
        number = vocabulary.__getitem__
        analyze = self.build_analyzer()
        indices: List[int] = []
        counts: List[int] = []
        indptr = [0]
        for document in raw_documents:
            counted = Counter(analyze(document))
            indices.extend(map(number, counted))
            counts.extend(counted.values())
            indptr.append(len(indices))
        if not vocabulary:
            raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
        matrix = sp.csr_matrix(
            (np.asarray(counts, dtype=np.intc), np.asarray(indices, dtype=np.int32),
             np.asarray(indptr, dtype=np.int32)),
            shape=(len(indptr) - 1, len(vocabulary)), dtype=self.dtype,
        )
        matrix.sort_indices()
        return dict(vocabulary), matrix

    def _analyzer_key(self) -> Optional[str]:
        """The settings that decide a text's terms (None: they include a function)."""
        settings = (self.input, self.encoding, self.decode_error, self.strip_accents,
                    self.lowercase, self.preprocessor, self.tokenizer, self.stop_words,
                    self.token_pattern, self.ngram_range, self.analyzer)
        if any(callable(setting) for setting in settings):
            return None
        return repr(settings)

    def _char_wb_ngrams(self, text_document: str) -> List[str]:
        """scikit-learn's character n-grams inside words (space-padded), in the same order."""
        min_n, max_n = self.ngram_range
        words = self._white_spaces.sub(" ", text_document).split()
        return list(chain.from_iterable(_word_ngrams(word, min_n, max_n) for word in words))


@functools.lru_cache(maxsize=1 << 14)
def _word_ngrams(word: str, min_n: int, max_n: int) -> Tuple[str, ...]:
    """A word's character n-grams as scikit-learn's `char_wb` makes them (most words recur).

    The training data has about 12,000 distinct words (15 MB of n-grams); the bound keeps a
    long-running server, which analyses visitors' words through the same function, to about
    20 MB.
    """
    word = f" {word} "
    ngrams: List[str] = []
    for n in range(min_n, max_n + 1):
        ngrams += [word[start:start + n] for start in range(max(1, len(word) - n + 1))]
        if len(word) <= n:  # a short word is counted once, whole
            break
    return tuple(ngrams)


class _Features:
    """Sentence vector (scaled) beside word and character tf-idf."""

    def __init__(self, embedding_weight: float, words: bool = True, word_min_df: int = 1) -> None:
        self._weight = embedding_weight
        self._words = (
            _TfidfVectorizer(
                ngram_range=(1, 2), min_df=word_min_df, sublinear_tf=True, lowercase=True
            )
            if words else None
        )
        self._chars = _TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 4), min_df=2, sublinear_tf=True,
            lowercase=True, max_features=30000,
        )
        self._fast: Optional[List[tuple]] = None

    def fit_transform(
        self, texts: Sequence[str], vectors: np.ndarray,
        term_counts: Optional[TermCountStore] = None,
    ) -> sp.csr_matrix:
        """Learn the vocabularies and return the training features (each text read once).

        `term_counts`: texts' n-gram counts kept between trainings (read, added to, saved).
        """
        tfidf = []
        for vectorizer in (self._chars, self._words):
            if vectorizer is not None:
                vectorizer.term_counts = term_counts
                try:
                    tfidf.append(vectorizer.fit_transform(texts))
                finally:
                    del vectorizer.term_counts  # the class's None again: not pickled
                # The terms left out of the vocabulary, kept only for introspection
                # (scikit-learn: safe to remove before pickling); most of a saved model's size.
                del vectorizer.stop_words_
        if term_counts is not None:
            term_counts.save()
        self._fast = None
        return sp.hstack([_dense_rows(vectors * self._weight), *tfidf], format="csr")

    def transform(self, texts: Sequence[str], vectors: np.ndarray) -> sp.csr_matrix:
        if len(texts) > _FAST_UP_TO:  # training and evaluation: scikit-learn's own
            tfidf = [v.transform(texts) for v in (self._chars, self._words) if v is not None]
        else:  # a visitor's message and its sentences
            tfidf = [_fast_tfidf(fitted, texts) for fitted in self._fitted()]
        return sp.hstack([_dense_rows(vectors * self._weight), *tfidf], format="csr")

    def scores(self, texts: Sequence[str], vectors: np.ndarray, coef: np.ndarray) -> np.ndarray:
        """`transform(texts, vectors) @ coef.T`, without building the sparse matrix."""
        dense = vectors.shape[1]
        scores = (vectors * self._weight).astype(np.float64) @ coef[:, :dense].T
        offset = dense
        for fitted in self._fitted():
            for row, (columns, values) in enumerate(_tfidf_rows(fitted, texts)):
                scores[row] += coef[:, offset + columns] @ values
            offset += len(fitted[1])
        return scores

    def _fitted(self) -> List[tuple]:
        """(analyzer, vocabulary, idf) of each vectorizer, made once after loading."""
        fast = getattr(self, "_fast", None)
        if fast is None:
            fast = self._fast = [
                (v.build_analyzer(), v.vocabulary_, v.idf_)
                for v in (self._chars, self._words) if v is not None
            ]
        return fast

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_fast", None)  # rebuilt after loading
        return state


def _dense_rows(array: np.ndarray) -> sp.csr_matrix:
    """`sp.csr_matrix(array)` for a dense 2-D array, built directly (40 times faster).

    SciPy goes through a COO matrix and its checks: a second of a retraining for the 40,000
    sentence vectors of the crisis model. The same matrix: zeros left out, indices in order;
    its values as float64, the tf-idf's type, which `sp.hstack` would convert them to (a
    third of its time when done there).
    """
    array = np.ascontiguousarray(array, dtype=np.float64)
    rows, columns = array.shape
    if not columns:
        return sp.csr_matrix(array)
    index = np.int32 if rows * columns < np.iinfo(np.int32).max else np.int64
    matrix = sp.csr_matrix(
        (array.ravel(), np.tile(np.arange(columns, dtype=index), rows),
         np.arange(0, rows * columns + 1, columns, dtype=index)),
        shape=(rows, columns),
    )
    matrix.eliminate_zeros()
    return matrix


# At parse time scikit-learn's checks and conversions cost more than the tf-idf itself (about
# 1 ms a call, four calls a message); for a few texts it is computed here, with the same result
# (tests/test_crisis_detector.py compares them).
_FAST_UP_TO = 32


def _tfidf_rows(fitted: tuple, texts: Sequence[str]) -> List[Tuple[np.ndarray, np.ndarray]]:
    """Each text's tf-idf row (sublinear tf, l2 norm) as (columns, values), from `_fitted`."""
    analyze, vocabulary, idf = fitted
    rows = []
    for text in texts:
        counts: dict = {}
        for term in analyze(text):
            column = vocabulary.get(term)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        columns = np.fromiter(sorted(counts), dtype=np.int64, count=len(counts))
        values = (np.log([counts[c] for c in columns]) + 1.0) * idf[columns]
        norm = np.sqrt(np.dot(values, values))
        if norm > 0:
            values = values / norm
        rows.append((columns, values))
    return rows


def _fast_tfidf(fitted: tuple, texts: Sequence[str]) -> sp.csr_matrix:
    """`TfidfVectorizer.transform(texts)` (sublinear tf, l2 norm), from `_Features._fitted`."""
    rows = _tfidf_rows(fitted, texts)
    indptr = np.cumsum([0, *(len(columns) for columns, _ in rows)])
    return sp.csr_matrix(
        (np.concatenate([values for _, values in rows]) if rows else np.zeros(0),
         np.concatenate([columns for columns, _ in rows]) if rows else np.zeros(0, np.int64),
         indptr),
        shape=(len(texts), len(fitted[1])),
    )


def _predict_proba(
    model: CalibratedClassifierCV, features: _Features, texts: Sequence[str],
    vectors: np.ndarray,
) -> np.ndarray:
    """`model.predict_proba(features.transform(texts, vectors))`, quickly for a few texts.

    For a visitor's message and its sentences, building the sparse feature matrix and
    scikit-learn's checks cost more than the arithmetic (about half of the classifiers' time
    per message): the SVM's scores are summed from the sentence vector and each text's tf-idf
    terms directly, and its sigmoids applied as `_CalibratedClassifier.predict_proba` does
    (tests/test_text_models.py compares the two).
    """
    calibrated = model.calibrated_classifiers_[0]
    svm = calibrated.base_estimator
    if (len(texts) > _FAST_UP_TO or len(model.calibrated_classifiers_) != 1
            or len(calibrated.classes) < 3
            or not np.array_equal(calibrated.classes, svm.classes_)):
        return model.predict_proba(features.transform(texts, vectors))
    scores = features.scores(texts, vectors, svm.coef_) + svm.intercept_
    slopes = np.array([sigmoid.a_ for sigmoid in calibrated.calibrators])
    offsets = np.array([sigmoid.b_ for sigmoid in calibrated.calibrators])
    proba = expit(-(slopes * scores + offsets))
    total = proba.sum(axis=1)[:, np.newaxis]
    proba = np.divide(proba, total, out=np.full_like(proba, 1 / proba.shape[1]),
                      where=total != 0)
    proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
    return proba


class TwoCoreLinearSVC(LinearSVC):
    """What the SVMs of models trained before 2026-12-07's fifteenth session were saved as.

    Those models were fitted by scikit-learn's liblinear, two labels' problems at a time; they
    are fitted by `clinic_nlp.dual_svm.DualLinearSVC` now. The class stays so that an older
    model (the staff console's roll-back) still loads; nothing fits it.
    """

    coef_: np.ndarray


# The SVM solver's stopping tolerance (liblinear's, the same meaning). scikit-learn's default,
# 1e-4, took 7.1 s for the intent model (20,000 examples) where 1e-3 took 6.3 s; the SVM scores
# of 8,000 dev-set messages moved by at most 0.0002 and no message's likeliest answer changed
# (docs/performance.md).
TOLERANCE = 1e-3


def _calibrated_svm(c: float, class_weight: Optional[str]) -> CalibratedClassifierCV:
    return CalibratedClassifierCV(
        DualLinearSVC(C=c, class_weight=class_weight, tol=TOLERANCE), method="sigmoid",
        cv=3, n_jobs=2, ensemble=False,
    )


# ---- the calibration, kept between trainings -------------------------------------------------
# Fitting the sigmoids that turn SVM scores into probabilities takes three more SVM fits on
# the folds: three quarters of a fit. Staff add or change a few examples at a time, and a few
# examples do not move how scores map to probabilities; so when at most this share of the
# examples differs from those of the last full calibration (same labels, same settings), the
# SVM is refitted on every example and the last sigmoids are kept. More change, a new label or
# new settings: a full calibration. `make train` from scratch (empty build/) always calibrates.
RECALIBRATE_AFTER = 0.02


def row_hashes(texts: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """One 64-bit hash of (label, text) per training row, in the rows' order."""
    hashes = (
        int.from_bytes(hashlib.blake2b(f"{label}\t{text}".encode(), digest_size=8).digest(),
                       "little")
        for text, label in zip(texts, labels, strict=True)
    )
    return np.fromiter(hashes, dtype=np.uint64, count=len(texts))


def example_hashes(texts: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """A sorted array of 64-bit hashes of (label, text): which examples a model learnt."""
    return np.unique(row_hashes(texts, labels))


@dataclass
class Calibration:
    """The sigmoids of a full calibration, with the examples and settings they were fitted on."""

    labels: List[str]
    settings: Tuple[Any, ...]
    examples: np.ndarray
    calibrators: List[Any]

    def still_fits(self, labels: List[str], settings: Tuple[Any, ...], examples: np.ndarray
                   ) -> bool:
        """Same labels and settings, and few enough examples added, removed or relabelled."""
        if self.labels != labels or self.settings != settings:
            return False
        changed = len(np.setxor1d(self.examples, examples, assume_unique=True))
        return changed <= RECALIBRATE_AFTER * len(examples)


def _read_calibration(path: Optional[Path]) -> Optional[Calibration]:
    try:
        found = joblib.load(path) if path is not None and path.exists() else None
    except Exception:  # an unreadable file: calibrate afresh, and it is rewritten
        return None
    return found if isinstance(found, Calibration) else None


def _fit(
    model: CalibratedClassifierCV,
    features: sp.csr_matrix,
    labels: Sequence[str],
    texts: Sequence[str],
    settings: Tuple[Any, ...],
    calibration_file: Optional[Path] = None,
) -> bool:
    """Fit `model`; True when the calibration of `calibration_file` was reused.

    Beside the calibration, the SVM's dual variables are kept by example
    (clinic_nlp/dual_svm.py); a fit that reuses the calibration starts from them, so a
    retraining after a few changed examples solves the SVM in a few passes.
    """
    y = np.asarray(labels)
    label_set = sorted({str(label) for label in labels})
    rows = row_hashes(texts, labels)
    examples = np.unique(rows)
    previous = _read_calibration(calibration_file)
    kept_duals = duals_file(calibration_file)
    if previous is not None and previous.still_fits(label_set, settings, examples):
        svm = clone(model.base_estimator)
        last = read_duals(kept_duals, settings)
        if last is not None:
            svm.warm_start_duals = last.start(_problem_labels(label_set), rows)
        svm.fit(features, y)
        model.classes_ = svm.classes_
        model.n_features_in_ = features.shape[1]
        model.calibrated_classifiers_ = [_CalibratedClassifier(
            svm, previous.calibrators, classes=svm.classes_, method="sigmoid")]
        _keep_duals(kept_duals, settings, label_set, rows, svm)
        return True
    # The three folds train side by side in threads (the solver releases the GIL): on 2
    # cores faster than one after the other, without worker processes' start-up.
    with parallel_backend("threading", n_jobs=2):
        model.fit(features, y)
    if calibration_file is not None:
        calibration_file.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(Calibration(label_set, settings, examples,
                                model.calibrated_classifiers_[0].calibrators), calibration_file)
        _keep_duals(kept_duals, settings, label_set, rows,
                    model.calibrated_classifiers_[0].base_estimator)
    return False


def _problem_labels(labels: List[str]) -> List[str]:
    """The label of each one-vs-rest problem: every label, or the second of two."""
    return labels[1:] if len(labels) == 2 else labels


def _keep_duals(path: Optional[Path], settings: Tuple[Any, ...], labels: List[str],
                rows: np.ndarray, svm: Any) -> None:
    duals = getattr(svm, "duals_", None)
    if path is not None and duals is not None:
        write_duals(path, Duals(settings, _problem_labels(labels), rows, duals))
        svm.duals_ = None  # not kept in memory with the model


class IntentModel:
    """Which answer a message needs: `faq/<key>` or an intent name, with probabilities."""

    def __init__(self, c: float = 0.5, embedding_weight: float = 1.5) -> None:
        # Word pairs seen once are dropped: they were four fifths of the vocabulary and of the
        # saved model, and the dev sets scored the same without them.
        self._features = _Features(embedding_weight, word_min_df=2)
        self._model = _calibrated_svm(c, class_weight=None)
        self._settings = ("intent", c, embedding_weight)
        self.labels: List[str] = []
        self.calibration_reused = False

    def fit(
        self, texts: Sequence[str], vectors: np.ndarray, labels: Sequence[str],
        calibration_file: Optional[Path] = None, term_counts: Optional[TermCountStore] = None,
    ) -> None:
        """Learn from examples: texts, their sentence vectors and their labels.

        With `calibration_file`, the last full calibration is kept there and reused while
        few examples changed (`RECALIBRATE_AFTER`). With `term_counts`, the texts' n-gram
        counts are kept between trainings (the same model, in less time).
        """
        features = self._features.fit_transform(texts, vectors, term_counts)
        self.calibration_reused = _fit(
            self._model, features, labels, texts, self._settings, calibration_file,
        )
        self.labels = [str(label) for label in self._model.classes_]

    def predict_proba(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        """One row per text, one column per label in `self.labels`."""
        return _predict_proba(self._model, self._features, texts, vectors)


NONE, CRISIS, EMERGENCY = "none", "crisis", "emergency"
# A question opening after a comma starts a new clause: "I want to die, can ketamine help?"
# is read as its two halves too, not only whole.
_QUESTION_OPENING = (
    r"(?:can|could|does|do|is|are|will|would|should|how|what|when|where|why|who|which"
    r"|puede|pueden|es|cómo|como|qué|que|cuánto|cuanto|cuándo|cuando|sirve|hay)"
)
_SENTENCE_END = re.compile(
    r"(?<=[.!?…])\s+|\s*[\n;]+\s*|\s+(?:but|pero|and then|y luego)\s+"
    rf"|,\s+(?={_QUESTION_OPENING}\b)",
    re.IGNORECASE,
)
WINDOW_WORDS, WINDOW_STEP = 14, 7
SEGMENT_WEIGHT = 0.85


def segments(text: str) -> List[str]:
    """The message, then each of its sentences, then overlapping word windows of long ones.

    A texter's 60 words without a full stop are still read a few words at a time.
    """
    pieces = [piece.strip() for piece in _SENTENCE_END.split(text) if piece and piece.strip()]
    parts = [text.strip()]
    for piece in pieces if len(pieces) > 1 else []:
        parts.append(piece)
    for piece in pieces:
        words = piece.split()
        if len(words) > WINDOW_WORDS + WINDOW_STEP:
            parts += [
                " ".join(words[start:start + WINDOW_WORDS])
                for start in range(0, len(words) - WINDOW_STEP, WINDOW_STEP)
            ]
    return list(dict.fromkeys(part for part in parts if part))


@dataclass(frozen=True)
class CrisisScore:
    """How likely a message is a crisis (its riskiest part), and which kind."""

    risk: float  # 1 - P(none) of the riskiest segment
    emergency: bool  # that segment is more likely a medical emergency than another crisis
    segment: int  # 0: the whole message; else the index of the sentence or window


class CrisisModel:
    """Crisis, medical emergency or neither, for a message and each of its sentences."""

    def __init__(self, c: float = 0.5, embedding_weight: float = 1.5) -> None:
        self._features = _Features(embedding_weight)
        self._model = _calibrated_svm(c, class_weight="balanced")
        self._settings = ("crisis", c, embedding_weight)
        self.labels: List[str] = []
        self.calibration_reused = False

    def fit(
        self, texts: Sequence[str], vectors: np.ndarray, labels: Sequence[str], embed: Embed,
        calibration_file: Optional[Path] = None, term_counts: Optional[TermCountStore] = None,
    ) -> None:
        """Learn from whole messages labelled none, crisis or emergency.

        Each sentence of the messages that are not a crisis is learnt as `none` too: a
        sentence of an ordinary question is not a crisis either, and without them fragments of
        long questions read as alarming. `calibration_file`, `term_counts`: as for
        `IntentModel.fit`.
        """
        extra = [
            part for text, label in zip(texts, labels, strict=True) if label == NONE
            for part in segments(text)[1:]
        ]
        all_texts = [*texts, *extra]
        all_vectors = np.vstack([vectors, embed(extra)]) if extra else vectors
        features = self._features.fit_transform(all_texts, all_vectors, term_counts)
        self.calibration_reused = _fit(
            self._model, features, [*labels, *([NONE] * len(extra))], all_texts,
            self._settings, calibration_file,
        )
        self.labels = [str(label) for label in self._model.classes_]

    def segment_proba(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        """Probabilities per text (columns in `self.labels` order)."""
        return _predict_proba(self._model, self._features, texts, vectors)

    def score(self, text: str, embed: Embed) -> CrisisScore:
        """The riskiest of the message's segments."""
        parts = segments(text)
        proba = self.segment_proba(parts, embed(parts))
        return self.score_from_proba(proba)

    def score_from_proba(
        self, proba: np.ndarray, ignore: Optional[Sequence[bool]] = None
    ) -> CrisisScore:
        """The riskiest row of a message's segment probabilities (row 0: the whole message).

        A sentence alone counts SEGMENT_WEIGHT of its risk: out of context, a fragment reads
        more alarming than the message it belongs to. Rows marked in `ignore` (parts holding
        a denied or past crisis phrase) count as no risk.
        """
        none = self.labels.index(NONE)
        risks = 1.0 - proba[:, none]
        risks[1:] *= SEGMENT_WEIGHT
        if ignore is not None:
            risks[np.asarray(ignore, dtype=bool)] = 0.0
        worst = int(np.argmax(risks))
        emergency = (
            EMERGENCY in self.labels
            and proba[worst, self.labels.index(EMERGENCY)]
            > proba[worst, self.labels.index(CRISIS)]
        )
        return CrisisScore(risk=float(risks[worst]), emergency=bool(emergency), segment=worst)


@dataclass(frozen=True)
class Ranked:
    """A label and its probability."""

    name: str
    confidence: float


def split_answer(
    labels: Sequence[str], proba: np.ndarray, retrieval_intent: str = "faq",
    set_apart: Sequence[str] = (),
) -> tuple:
    """(intent ranking, topic ranking) from one row of `IntentModel` probabilities.

    The intent `faq` gets the sum of its topics' probabilities; each topic's confidence is
    its share of that sum, so "which topic, given it is an FAQ question" reads on its own.
    Labels in `set_apart` (decided by another component) are left out, the rest renormalised:
    the answer a message needs if it is not one of them.
    """
    kept = [i for i, label in enumerate(labels) if label not in set_apart]
    if len(kept) < len(labels):
        total = float(proba[kept].sum())
        labels = [labels[i] for i in kept]
        proba = proba[kept] / total if total > 0 else proba[kept]
    prefix = f"{retrieval_intent}/"
    topics = [
        (label, float(p)) for label, p in zip(labels, proba, strict=True)
        if label.startswith(prefix)
    ]
    faq_total = sum(p for _, p in topics)
    intents = [Ranked(label, float(p)) for label, p in zip(labels, proba, strict=True)
               if not label.startswith(prefix)]
    if topics:
        intents.append(Ranked(retrieval_intent, faq_total))
    intents.sort(key=lambda r: r.confidence, reverse=True)
    ranked_topics = sorted(
        (Ranked(label, p / faq_total if faq_total > 0 else 0.0) for label, p in topics),
        key=lambda r: r.confidence, reverse=True,
    )
    return intents, ranked_topics
