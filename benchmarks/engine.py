"""The engine against PyTorch (CPU, torch.no_grad) and ONNX Runtime: same weights, same dtype, same
thread count, numpy arrays in and out for all three. Outputs are checked equal before any timing.

Cases:
  mlp  a 784-256-256-10 network: ReLU, ReLU, identity (the logits).
  lm   a language network: 3-word context, 64-dim embeddings, one 512-unit tanh layer, a 10,000-word
       softmax output: embedding lookup + concatenation + dense layers + softmax probabilities.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from service.engine.language import LanguageModel
from service.engine.network import Layer, Network

from .timing import interleaved, ratio

MLP_SIZES = (784, 256, 256, 10)
LM_VOCABULARY, LM_CONTEXT, LM_EMBEDDING, LM_HIDDEN = 10_000, 3, 64, 512
BATCHES = (1, 32, 1024)
DTYPES = ("float32", "float64")
TOLERANCE = {"float32": dict(rtol=2e-4, atol=1e-6), "float64": dict(rtol=1e-9, atol=1e-12)}


@dataclass
class Case:
    model: str  # "mlp" or "lm"
    dtype: str
    batch: int
    ours: Callable[[], np.ndarray]
    references: dict[str, Callable[[], np.ndarray]]

    @property
    def name(self) -> str:
        return f"{self.model} {self.dtype} batch {self.batch}"


def _lecun(rng: np.random.Generator, n_out: int, n_in: int) -> np.ndarray:
    return rng.standard_normal((n_out, n_in)) / math.sqrt(n_in)


def mlp_weights(seed: int = 1, sizes: tuple[int, ...] = MLP_SIZES) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """ReLU layers, an identity output layer; LeCun-scaled weights, small random biases."""
    rng = np.random.default_rng(seed)
    activations = ["relu"] * (len(sizes) - 2) + ["identity"]
    return [(_lecun(rng, n_out, n_in), rng.standard_normal(n_out) * 0.1, act)
            for n_in, n_out, act in zip(sizes[:-1], sizes[1:], activations)]


def lm_weights(seed: int = 2, vocabulary: int = LM_VOCABULARY) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray, str]]]:
    rng = np.random.default_rng(seed)
    embeddings = rng.standard_normal((vocabulary, LM_EMBEDDING))
    hidden = (_lecun(rng, LM_HIDDEN, LM_CONTEXT * LM_EMBEDDING), np.zeros(LM_HIDDEN), "tanh")
    counts = rng.zipf(1.3, vocabulary).astype(np.float64)
    output = (_lecun(rng, vocabulary, LM_HIDDEN) * 0.5, np.log(counts / counts.sum()), "softmax")
    return embeddings, [hidden, output]


def lm_vocabulary(vocabulary: int = LM_VOCABULARY) -> list[str]:
    return ["<pad>", "<unk>", "</s>"] + [f"w{i}" for i in range(vocabulary - 3)]


# --- our engine --------------------------------------------------------------------------------------

def ours_mlp(dtype: str) -> Network:
    return Network([Layer(w, b, a) for w, b, a in mlp_weights()], dtype)


class OursLanguageNetwork:
    """Network (b) in our engine: LanguageModel.embed (lookup + concatenation) then Network.forward.

    Network (b) has 5.87 M parameters, above LanguageModel's 5 M limit (MAX_PARAMETERS), so the model
    object is not built; the same engine code runs on the same arrays.
    """

    def __init__(self, dtype: str) -> None:
        embeddings, layers = lm_weights()
        self.network = Network([Layer(w, b, a) for w, b, a in layers], dtype)
        self.embeddings = np.ascontiguousarray(embeddings, dtype=dtype)

    def embed(self, ids: np.ndarray) -> np.ndarray:
        return LanguageModel.embed(self, ids)  # type: ignore[arg-type]

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        return self.network.forward(self.embed(ids))


def ours_lm(dtype: str) -> OursLanguageNetwork:
    return OursLanguageNetwork(dtype)


# --- PyTorch -----------------------------------------------------------------------------------------

def torch_mlp(dtype: str) -> Any:
    import torch

    layers: list[Any] = []
    for w, b, act in mlp_weights():
        linear = torch.nn.Linear(w.shape[1], w.shape[0], dtype=getattr(torch, dtype))
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if act == "relu":
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers).eval()


class TorchLanguageModel:
    def __init__(self, dtype: str) -> None:
        import torch

        embeddings, ((w1, b1, _), (w2, b2, _)) = lm_weights()
        torch_dtype = getattr(torch, dtype)
        self.embedding = torch.nn.Embedding.from_pretrained(torch.from_numpy(embeddings.astype(dtype)))
        self.hidden = torch.nn.Linear(w1.shape[1], w1.shape[0], dtype=torch_dtype)
        self.output = torch.nn.Linear(w2.shape[1], w2.shape[0], dtype=torch_dtype)
        with torch.no_grad():
            for linear, w, b in ((self.hidden, w1, b1), (self.output, w2, b2)):
                linear.weight.copy_(torch.from_numpy(w))
                linear.bias.copy_(torch.from_numpy(b))
        self.torch = torch

    def __call__(self, ids: Any) -> Any:
        torch = self.torch
        x = self.embedding(ids).reshape(ids.shape[0], -1)
        return torch.softmax(self.output(torch.tanh(self.hidden(x))), dim=-1)


# --- ONNX Runtime ------------------------------------------------------------------------------------

def _onnx_session(graph: Any, threads: int) -> Any:
    import onnx
    import onnxruntime as ort
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def _tensor_type(dtype: str) -> int:
    from onnx import TensorProto

    return TensorProto.FLOAT if dtype == "float32" else TensorProto.DOUBLE


def onnx_mlp(dtype: str, threads: int) -> Any:
    from onnx import helper, numpy_helper

    nodes, initializers, current = [], [], "x"
    for i, (w, b, act) in enumerate(mlp_weights()):
        initializers += [numpy_helper.from_array(w.astype(dtype), f"W{i}"), numpy_helper.from_array(b.astype(dtype), f"b{i}")]
        z = f"z{i}"
        nodes.append(helper.make_node("Gemm", [current, f"W{i}", f"b{i}"], [z], transB=1))
        if act == "relu":
            nodes.append(helper.make_node("Relu", [z], [f"a{i}"]))
            current = f"a{i}"
        else:
            current = z
    nodes.append(helper.make_node("Identity", [current], ["y"]))
    graph = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("x", _tensor_type(dtype), ["batch", MLP_SIZES[0]])],
        [helper.make_tensor_value_info("y", _tensor_type(dtype), ["batch", MLP_SIZES[-1]])],
        initializers,
    )
    return _onnx_session(graph, threads)


def onnx_lm(dtype: str, threads: int) -> Any:
    from onnx import TensorProto, helper, numpy_helper

    embeddings, ((w1, b1, _), (w2, b2, _)) = lm_weights()
    initializers = [
        numpy_helper.from_array(embeddings.astype(dtype), "C"),
        numpy_helper.from_array(np.array([-1, LM_CONTEXT * LM_EMBEDDING], dtype=np.int64), "flat"),
        numpy_helper.from_array(w1.astype(dtype), "W1"), numpy_helper.from_array(b1.astype(dtype), "b1"),
        numpy_helper.from_array(w2.astype(dtype), "W2"), numpy_helper.from_array(b2.astype(dtype), "b2"),
    ]
    nodes = [
        helper.make_node("Gather", ["C", "ids"], ["e"], axis=0),
        helper.make_node("Reshape", ["e", "flat"], ["x"]),
        helper.make_node("Gemm", ["x", "W1", "b1"], ["z1"], transB=1),
        helper.make_node("Tanh", ["z1"], ["h"]),
        helper.make_node("Gemm", ["h", "W2", "b2"], ["z2"], transB=1),
        helper.make_node("Softmax", ["z2"], ["p"], axis=-1),
    ]
    graph = helper.make_graph(
        nodes, "lm",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", LM_CONTEXT])],
        [helper.make_tensor_value_info("p", _tensor_type(dtype), ["batch", LM_VOCABULARY])],
        initializers,
    )
    return _onnx_session(graph, threads)


# --- the cases ---------------------------------------------------------------------------------------

def build_cases(threads: int, batches=BATCHES, dtypes=DTYPES, models=("mlp", "lm"), seed: int = 3) -> list[Case]:
    import torch

    torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    cases = []
    for model in models:
        for dtype in dtypes:
            if model == "mlp":
                net, tmodel, session = ours_mlp(dtype), torch_mlp(dtype), onnx_mlp(dtype, threads)
            else:
                net, tmodel, session = ours_lm(dtype), TorchLanguageModel(dtype), onnx_lm(dtype, threads)
            for batch in batches:
                if model == "mlp":
                    x = rng.standard_normal((batch, MLP_SIZES[0])).astype(dtype)
                    ours = (lambda net=net, x=x: net.forward(x))
                    feed = {"x": x}
                else:
                    x = rng.integers(0, LM_VOCABULARY, size=(batch, LM_CONTEXT), dtype=np.int64)
                    ours = (lambda net=net, x=x: net(x))
                    feed = {"ids": x}

                def with_torch(tmodel=tmodel, x=x) -> np.ndarray:
                    with torch.no_grad():
                        return tmodel(torch.from_numpy(x)).numpy()

                cases.append(Case(model, dtype, batch, ours, {
                    "pytorch": with_torch,
                    "onnxruntime": (lambda session=session, feed=feed: session.run(None, feed)[0]),
                }))
    return cases


def check_equal(case: Case) -> dict[str, float]:
    """Raise unless every engine gives the same outputs (dtype tolerance); return the max abs differences."""
    ours = case.ours()
    expected_dtype = np.dtype(case.dtype)
    if ours.dtype != expected_dtype:
        raise AssertionError(f"{case.name}: our engine answered {ours.dtype}, not {expected_dtype}")
    differences = {}
    for name, reference in case.references.items():
        theirs = np.asarray(reference())
        if theirs.shape != ours.shape:
            raise AssertionError(f"{case.name}: {name} answered shape {theirs.shape}, ours {ours.shape}")
        worst = float(np.max(np.abs(ours.astype(np.float64) - theirs.astype(np.float64))))
        if not np.allclose(ours, theirs, **TOLERANCE[case.dtype]):
            raise AssertionError(f"{case.name}: outputs differ from {name} (max abs difference {worst:g})")
        differences[name] = worst
    return differences


def run(threads: int = 1, rounds: int = 7, block_seconds: float = 0.05, batches=BATCHES, dtypes=DTYPES,
        models=("mlp", "lm"), log: Callable[[str], None] = print) -> list[dict]:
    from threadpoolctl import threadpool_limits

    results = []
    with threadpool_limits(limits=threads):
        for case in build_cases(threads, batches, dtypes, models):
            differences = check_equal(case)
            timed = interleaved({"ours": case.ours, **case.references}, rounds=rounds, block_seconds=block_seconds)
            ours = timed["ours"]["median_s"]
            row = {
                "case": case.name, "model": case.model, "dtype": case.dtype, "batch": case.batch, "threads": threads,
                "ours_s": ours,
                "max_abs_difference": differences,
                "references": {name: {"median_s": timed[name]["median_s"], "ratio": ratio(ours, timed[name]["median_s"])}
                               for name in case.references},
                "timing": timed,
            }
            results.append(row)
            log(f"  {case.name:26s} ours {ours * 1e6:10.1f} µs  " + "  ".join(
                f"{name} {r['median_s'] * 1e6:10.1f} µs ({r['ratio']:.2f}x)" for name, r in row["references"].items()))
    return results
