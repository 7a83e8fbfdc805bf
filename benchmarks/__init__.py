"""Neuronhub's benchmark suite: the engine against PyTorch and ONNX Runtime, the HTTP service against
a bare Flask floor, large inputs, and training. Run it with ./scripts/bench (docs/benchmarks.md)."""
