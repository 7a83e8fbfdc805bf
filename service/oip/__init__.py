"""The Open Inference Protocol v2 (KServe's v2 protocol, as Triton and MLServer speak it) over the
same catalog and engine as the native API: tensors.py reads and writes its tensors (JSON and the
binary tensor data extension), models.py answers metadata, config and inference for a compiled
network, routes.py is the thin HTTP layer under /v2."""
