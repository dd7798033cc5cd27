"""A linear SVM (scikit-learn's `LinearSVC` problem) that can start from the last solution.

Staff add a few examples and retrain. scikit-learn's liblinear solves each SVM from zero, about
forty passes over every example for each of the intent model's 33 one-vs-rest problems: most
of a retraining's model fitting. The dual problem it solves has one variable per example, and
its solution is a few examples away from the last one, so `DualLinearSVC` solves the same
problem with the same algorithm (dual coordinate descent for the squared hinge loss, in C:
clinic_nlp/dual_cd.c) starting from the last training's dual variables, kept by example in
build/ beside the calibration (`Duals`); a new example starts at 0. The solution is the same
problem's optimum to the same tolerance either way (tests/test_dual_svm.py compares it with
`LinearSVC`'s, and a warm start with a cold one).

The C file is compiled on first use into build/native/ (gcc, as `scripts/setup.sh` checks);
the library's name carries the source's hash, so an edited source is compiled again.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Optional, Sequence

import joblib
import numpy as np
import scipy.sparse as sp
from sklearn.svm import LinearSVC
from sklearn.utils.class_weight import compute_class_weight

logger = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("dual_cd.c")
LIBRARY_DIR = Path(__file__).resolve().parents[1] / "build" / "native"
_library: Optional[ctypes.CDLL] = None
_library_lock = threading.Lock()


class NativeBuildError(RuntimeError):
    """The solver's C source could not be compiled (no C compiler, or a compiler error)."""


def library() -> ctypes.CDLL:
    """The compiled solver, compiled first if this source's library is not in build/native/."""
    global _library
    with _library_lock:
        if _library is None:
            _library = _load(_compiled())
        return _library


def _compiled() -> Path:
    source = SOURCE.read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:16]
    target = LIBRARY_DIR / f"dual_cd-{digest}.so"
    if target.exists():
        return target
    compiler = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        raise NativeBuildError(
            "no C compiler found (gcc or cc): the SVM solver in clinic_nlp/dual_cd.c needs one "
            "to be built once; install gcc (Debian: apt-get install gcc) or set CC")
    LIBRARY_DIR.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed: two processes building at once both succeed.
    handle, temporary = tempfile.mkstemp(dir=LIBRARY_DIR, suffix=".so.tmp")
    os.close(handle)
    command = [compiler, "-O3", "-fPIC", "-shared", "-std=c99", "-o", temporary, str(SOURCE),
               "-lm"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        os.unlink(temporary)
        raise NativeBuildError(f"compiling {SOURCE.name} failed:\n{done.stderr.strip()}")
    os.replace(temporary, target)
    return target


def _load(path: Path) -> ctypes.CDLL:
    lib = ctypes.CDLL(str(path))  # CDLL: Python's lock is released during each call
    function = lib.dual_cd_l2svc
    function.restype = ctypes.c_int
    pointer = np.ctypeslib.ndpointer
    written = pointer(np.float64, flags=("C", "W"))
    function.argtypes = [
        ctypes.c_int, ctypes.c_int,
        pointer(np.int32, flags="C"), pointer(np.int32, flags="C"),
        pointer(np.float64, flags="C"), pointer(np.int8, flags="C"),
        pointer(np.float64, flags="C"), ctypes.c_double, ctypes.c_double, ctypes.c_int,
        ctypes.c_uint64, written, written,
    ]
    return lib


def solve(
    X: sp.csr_matrix, positive: np.ndarray, cost: np.ndarray, start: Optional[np.ndarray],
    tol: float, max_iter: int, bias: float = 1.0, seed: int = 1,
) -> tuple:
    """(weights, intercept weight, dual variables, passes) of one binary problem.

    `positive`: which rows are the class (+1; the others -1); `cost`: each row's C; `start`:
    the dual variables to start from (None: zeros).
    """
    rows, columns = X.shape
    y = np.where(positive, 1, -1).astype(np.int8)
    alpha = (np.zeros(rows) if start is None
             else np.ascontiguousarray(start, dtype=np.float64).copy())
    w = np.zeros(columns + 1)
    passes = library().dual_cd_l2svc(
        rows, columns, X.indptr, X.indices, X.data, y,
        np.ascontiguousarray(cost, dtype=np.float64), bias, tol, max_iter, seed, alpha, w)
    if passes < 0:
        raise MemoryError("the SVM solver ran out of memory")
    return w[:-1], w[-1] * bias, alpha, passes


def _csr(X: Any) -> sp.csr_matrix:
    X = sp.csr_matrix(X, dtype=np.float64)
    if X.indices.dtype != np.int32 or X.indptr.dtype != np.int32:
        X = sp.csr_matrix((X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32)),
                          shape=X.shape)
    X.data = np.ascontiguousarray(X.data)
    return X


class DualLinearSVC(LinearSVC):
    """`LinearSVC` (l2 penalty, squared hinge, dual) solved by clinic_nlp/dual_cd.c.

    One-vs-rest as liblinear: for label k, "k or not", k's examples weighted by its class
    weight and the others by 1 (two labels: one problem, the second label positive). The
    problems run on two threads. Set `warm_start_duals` (one row of dual variables per problem,
    in `classes_` order, one column per training row; see `Duals.start`) before `fit` to start
    from them; after `fit`, `duals_` holds the solution's, for the next training. Neither is
    pickled with the model.
    """

    coef_: np.ndarray
    warm_start_duals: Optional[np.ndarray] = None
    duals_: Optional[np.ndarray] = None

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> DualLinearSVC:
        """Fit as `LinearSVC.fit` does, from `warm_start_duals` when set."""
        if (sample_weight is not None or self.penalty != "l2" or self.loss != "squared_hinge"
                or self.dual is not True or self.multi_class != "ovr"):
            raise ValueError("DualLinearSVC solves the l2-penalty squared-hinge dual problem "
                             "without sample weights only")
        X = _csr(X)
        y = np.asarray(y)
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError("the training data needs at least two labels")
        weights = (compute_class_weight(self.class_weight, classes=classes, y=y)
                   if self.class_weight is not None else np.ones(len(classes)))
        if len(classes) == 2:  # liblinear's binary problem: the second label is positive
            problems = [(y == classes[1],
                         np.where(y == classes[1], self.C * weights[1], self.C * weights[0]))]
        else:
            problems = [(y == label, np.where(y == label, self.C * weight, self.C))
                        for label, weight in zip(classes, weights, strict=True)]
        start = self.warm_start_duals
        if start is not None and start.shape != (len(problems), X.shape[0]):
            start = None
        seed = 1 if self.random_state is None else int(self.random_state) + 1
        bias = float(self.intercept_scaling) if self.fit_intercept else 0.0

        def run(k: int) -> tuple:
            positive, cost = problems[k]
            return solve(X, positive, cost, None if start is None else start[k], self.tol,
                         self.max_iter, bias=bias, seed=seed)

        with ThreadPoolExecutor(max_workers=min(2, len(problems))) as pool:
            solved = list(pool.map(run, range(len(problems))))
        self.classes_ = classes
        self.coef_ = np.asfortranarray(np.vstack([w for w, _, _, _ in solved]))
        self.intercept_ = (np.array([b for _, b, _, _ in solved]) if self.fit_intercept
                           else np.zeros(len(solved)))
        self.duals_ = np.vstack([alpha for _, _, alpha, _ in solved])
        self.n_features_in_ = X.shape[1]
        self.n_iter_ = max(passes for _, _, _, passes in solved)
        if self.n_iter_ >= self.max_iter:
            logger.warning("The SVM solver stopped at %d passes before converging.",
                           self.max_iter)
        return self

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.pop("duals_", None)
        state.pop("warm_start_duals", None)
        return state


@dataclass
class Duals:
    """A fit's dual variables, by label and by training row, to start the next fit from."""

    settings: tuple
    labels: List[str]
    rows: np.ndarray  # one 64-bit hash of (label, text) per training row
    alphas: np.ndarray  # one row per label (the problem "this label or not")

    def start(self, labels: Sequence[str], rows: np.ndarray) -> np.ndarray:
        """Starting dual variables for a fit over `rows` with `labels`.

        Each row starts from its last value, a row not met before at 0, and a label not met
        before at 0 everywhere.
        """
        order = np.argsort(self.rows, kind="stable")
        known = self.rows[order]
        found = np.searchsorted(known, rows)
        found[found == len(known)] = 0
        hit = (known[found] == rows) if len(known) else np.zeros(len(rows), dtype=bool)
        start = np.zeros((len(labels), len(rows)))
        for k, label in enumerate(labels):
            if label in self.labels:
                previous = self.alphas[self.labels.index(label)][order]
                start[k, hit] = previous[found[hit]]
        return start


def duals_file(calibration_file: Optional[Path]) -> Optional[Path]:
    """Where the duals of the model calibrated in `calibration_file` are kept."""
    return None if calibration_file is None else calibration_file.with_suffix(".duals.joblib")


def read_duals(path: Optional[Path], settings: tuple) -> Optional[Duals]:
    """The duals kept at `path` for these settings, or None."""
    try:
        found = joblib.load(path) if path is not None and path.exists() else None
    except Exception:  # an unreadable file: start from zeros, and it is rewritten
        return None
    return found if isinstance(found, Duals) and found.settings == settings else None


def write_duals(path: Optional[Path], duals: Duals) -> None:
    """Keep `duals` at `path` for the next training."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(duals, path)
