"""ONNX in and out: export.py writes a stored network as an ONNX model, read.py reads a chain of
dense layers and activations from one. Neither knows HTTP or the store."""
