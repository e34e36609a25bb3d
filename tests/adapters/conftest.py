from support.tiny_model import tiny_model_dir  # noqa: F401  (session fixture shared with others)
