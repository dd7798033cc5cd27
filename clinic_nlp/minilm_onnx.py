"""all-MiniLM-L6-v2 as an ONNX graph with int8 weights, run by ONNX Runtime.

The graph is written here from the model directory's safetensors weights (BERT: embeddings,
six encoder layers, mean pooling over the attention mask, L2 normalisation), its matrices
quantised to int8 (one scale per output column; ONNX Runtime's dynamic quantisation), once per
model version and version of this file, into `build/minilm-onnx/` (`onnx_file`). Nothing is
downloaded and no converter is needed.

Each text goes through the graph alone (`OnnxMiniLM.embed`). Dynamic quantisation scales a
call's activations together, so a text padded into a batch would get a slightly different
vector (cosine down to 0.95) than alone; alone, a training example and the same words typed
by a visitor get the same vector.

On these 2 cores a visitor's message takes about 2 ms (TensorFlow's float32 model: 12 ms), the
encoder loads in 0.2 s (TensorFlow: about 5 s) and keeps a quarter of the weights' memory. The
vectors are within a cosine of 0.97 of the float32 model's (mean 0.993;
tests/test_sentence_encoder.py); the classifiers are trained on these same vectors, and the
dev figures were measured again on them (docs/performance.md).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Sequence

import numpy as np

HEADS = 12
LAYERS = 6
EPSILON = 1e-12  # config.json: layer_norm_eps
OPSET = 17  # LayerNormalization
BUILD_DIR = "build/minilm-onnx"
# More texts than this (training) are embedded in parallel calls, one per core.
PARALLEL_FROM = 16
# Part of every vector's version (with the model's): a change to this file re-embeds.
SOURCE_HASH = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:8]


def build_graph(weights: Dict[str, np.ndarray]) -> Any:
    """The ONNX ModelProto: input_ids and attention_mask (int64, batch x tokens) -> sentence."""
    from onnx import TensorProto, helper, numpy_helper

    initializers: List[Any] = []
    nodes: List[Any] = []

    def constant(name: str, value: Any) -> str:
        initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(kind: str, inputs: List[str], **attributes: Any) -> str:
        output = f"{kind}_{len(nodes)}"
        nodes.append(helper.make_node(kind, inputs, [output], **attributes))
        return output

    def weight(name: str, transpose: bool = False) -> str:
        value = weights[name]
        return constant(name, np.ascontiguousarray(value.T) if transpose else value)

    def layer_norm(x: str, prefix: str) -> str:
        return op("LayerNormalization", [x, weight(f"{prefix}.weight"), weight(f"{prefix}.bias")],
                  axis=-1, epsilon=EPSILON)

    def dense(x: str, prefix: str) -> str:
        return op("Add", [op("MatMul", [x, weight(f"{prefix}.weight", transpose=True)]),
                          weight(f"{prefix}.bias")])

    size = weights["embeddings.word_embeddings.weight"].shape[1]
    head = size // HEADS
    constant("zero", np.array(0, np.int64))
    constant("one", np.array(1, np.int64))
    constant("one_f", np.array(1.0, np.float32))
    constant("heads_shape", np.array([0, 0, HEADS, head], np.int64))
    constant("hidden_shape", np.array([0, 0, size], np.int64))

    # Embeddings: word + position + token type 0 (every text is one segment).
    positions = op("Range", ["zero", op("Gather", [op("Shape", ["input_ids"]), "one"]), "one"])
    x = op("Add", [op("Gather", [weight("embeddings.word_embeddings.weight"), "input_ids"]),
                   op("Gather", [weight("embeddings.position_embeddings.weight"), positions])])
    x = op("Add", [x, constant("token_type_0",
                               weights["embeddings.token_type_embeddings.weight"][0])])
    x = layer_norm(x, "embeddings.LayerNorm")

    # Padding gets -10000 before the softmax, as BERT's extended attention mask.
    mask = op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    padding = op("Mul", [op("Sub", ["one_f", mask]), constant("minus", np.float32(-10000.0))])
    padding = op("Unsqueeze", [padding, constant("axes_1_2", np.array([1, 2], np.int64))])

    def split_heads(x: str, perm: List[int]) -> str:
        return op("Transpose", [op("Reshape", [x, "heads_shape"])], perm=perm)

    scale = constant("scale", np.float32(1 / math.sqrt(head)))
    for layer in range(LAYERS):
        p = f"encoder.layer.{layer}."
        query = split_heads(dense(x, p + "attention.self.query"), [0, 2, 1, 3])
        key = split_heads(dense(x, p + "attention.self.key"), [0, 2, 3, 1])
        value = split_heads(dense(x, p + "attention.self.value"), [0, 2, 1, 3])
        scores = op("Add", [op("Mul", [op("MatMul", [query, key]), scale]), padding])
        attended = op("MatMul", [op("Softmax", [scores], axis=-1), value])
        attended = op("Reshape", [op("Transpose", [attended], perm=[0, 2, 1, 3]), "hidden_shape"])
        x = layer_norm(op("Add", [dense(attended, p + "attention.output.dense"), x]),
                       p + "attention.output.LayerNorm")
        inner = dense(x, p + "intermediate.dense")  # BERT's exact GELU: x * Phi(x)
        phi = op("Add", [op("Erf", [op("Mul", [inner, constant(
            f"rsqrt2_{layer}", np.float32(1 / math.sqrt(2)))])]), "one_f"])
        inner = op("Mul", [op("Mul", [inner, constant(f"half_{layer}", np.float32(0.5))]), phi])
        x = layer_norm(op("Add", [dense(inner, p + "output.dense"), x]), p + "output.LayerNorm")

    # Mean over the real tokens, then unit length.
    token_axis = constant("axis_1", np.array([1], np.int64))
    mask3 = op("Unsqueeze", [mask, constant("axis_2", np.array([2], np.int64))])
    summed = op("ReduceSum", [op("Mul", [x, mask3]), token_axis], keepdims=0)
    count = op("Max", [op("ReduceSum", [mask3, token_axis], keepdims=0), "one_f"])
    mean = op("Div", [summed, count])
    norm = op("Max", [op("ReduceL2", [mean], axes=[1], keepdims=1),
                      constant("epsilon", np.float32(EPSILON))])
    nodes.append(helper.make_node("Div", [mean, norm], ["sentence"]))

    graph = helper.make_graph(
        nodes, "all-MiniLM-L6-v2-mean-pooled",
        [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "tokens"])
         for name in ("input_ids", "attention_mask")],
        [helper.make_tensor_value_info("sentence", TensorProto.FLOAT, ["batch", size])],
        initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


def onnx_file(model_path: str, version: str, build_dir: str = BUILD_DIR) -> Path:
    """The int8 graph's file for this version (model and this module), written if missing."""
    path = Path(build_dir) / f"{version}.onnx"
    if path.exists():
        return path
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from safetensors.numpy import load_file

    path.parent.mkdir(parents=True, exist_ok=True)
    graph = build_graph(load_file(str(Path(model_path) / "model.safetensors")))
    with tempfile.TemporaryDirectory(dir=path.parent) as work:
        float32 = Path(work) / "float32.onnx"
        float32.write_bytes(graph.SerializeToString())
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)  # the tool advises pre-processing at WARNING on the root
        try:
            quantize_dynamic(float32, Path(work) / "int8.onnx", per_channel=True,
                             weight_type=QuantType.QInt8)
        finally:
            root.setLevel(level)
        (Path(work) / "int8.onnx").replace(path)  # whole or not at all
    return path


class OnnxMiniLM:
    """Unit-length mean-pooled vectors, one text per call (see the module's docstring)."""

    def __init__(self, model_path: str, version: str, max_tokens: int = 128) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_tokens)
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        # One thread a call: a message takes 2.4 ms instead of 2.2 ms with two, and the
        # server's other work keeps the other core. Many texts (training) go through in
        # parallel calls instead, one per core: 1.6 ms a text instead of 3.0 ms.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only
        self._session = onnxruntime.InferenceSession(
            str(onnx_file(model_path, version)), options, providers=["CPUExecutionProvider"]
        )

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length 384-dimensional float32 row per text."""
        encodings = self._tokenizer.encode_batch(list(texts))
        if len(encodings) <= PARALLEL_FROM:
            rows = [self._embed_one(encoding.ids) for encoding in encodings]
        else:
            with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
                rows = list(pool.map(lambda encoding: self._embed_one(encoding.ids),
                                     encodings, chunksize=64))
        return np.array(rows, dtype=np.float32).reshape(len(encodings), 384)

    def _embed_one(self, token_ids: List[int]) -> np.ndarray:
        ids = np.array([token_ids], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        return self._session.run(None, feed)[0][0]
