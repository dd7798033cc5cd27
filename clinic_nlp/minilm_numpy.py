"""MiniLM's sentence vectors computed in NumPy, for training when only a few texts are new.

`rasa train` after one new example embeds that example and little else (every other vector
comes from build/embedding-cache.sqlite), yet the TensorFlow encoder
(clinic_nlp.sentence_embeddings.SentenceEncoder) costs about 5 s before its first vector:
importing TensorFlow and transformers, building the Keras model (random weights, then the
real ones) and tracing the graph. The same network in NumPy reads the weights file in a
tenth of a second. It is slower per text than TensorFlow on these 2 cores, so training uses
it only for a few texts (`FEW_TEXTS`); the server and a training that embeds many texts use
TensorFlow. The vectors agree with TensorFlow's to about 1e-6 (tests/test_minilm_numpy.py).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

# Up to this many texts to embed, the NumPy encoder is quicker than loading TensorFlow.
FEW_TEXTS = 64
HEADS = 12
LAYERS = 6
EPSILON = 1e-12  # config.json: layer_norm_eps


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + EPSILON) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU: x * Phi(x)."""
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


class NumpyMiniLM:
    """Unit-length mean-pooled vectors from the MiniLM directory's safetensors weights."""

    def __init__(self, model_path: str, max_tokens: int = 128) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        weights = Path(model_path) / "model.safetensors"
        self._weights: Dict[str, np.ndarray] = load_file(str(weights))
        self._tokenizer = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_tokens)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length 384-dimensional float32 row per text."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([self._embed_one(encoding.ids)
                         for encoding in self._tokenizer.encode_batch(list(texts))])

    def _embed_one(self, ids: List[int]) -> np.ndarray:
        w = self._weights
        length = len(ids)
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:length]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        size = x.shape[1] // HEADS
        for layer in range(LAYERS):
            p = f"encoder.layer.{layer}."

            def dense(h: np.ndarray, name: str, prefix: str = p) -> np.ndarray:
                return h @ w[f"{prefix}{name}.weight"].T + w[f"{prefix}{name}.bias"]

            q, k, v = (dense(x, f"attention.self.{name}").reshape(length, HEADS, size)
                       .transpose(1, 0, 2) for name in ("query", "key", "value"))
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(size)
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            attended = (scores / scores.sum(axis=-1, keepdims=True)) @ v
            attended = attended.transpose(1, 0, 2).reshape(length, -1)
            x = _layer_norm(dense(attended, "attention.output.dense") + x,
                            w[f"{p}attention.output.LayerNorm.weight"],
                            w[f"{p}attention.output.LayerNorm.bias"])
            inner = _gelu(dense(x, "intermediate.dense"))
            x = _layer_norm(dense(inner, "output.dense") + x,
                            w[f"{p}output.LayerNorm.weight"], w[f"{p}output.LayerNorm.bias"])
        mean = x.mean(axis=0)
        return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
