"""Ship a training run: fused/quantized mlx folders, GGUF, Ollama Modelfiles and Apple
.fmadapter exports, each with a model card (stage `ship`, core/ship/ship.py)."""
