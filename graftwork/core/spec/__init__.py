"""Hand-written dataset specs (YAML) shared by the rule- and teacher-driven recipes.

One spec language (`model`), one template engine (`templates`, Jinja2 in a sandbox), one
deterministic expansion (`expand`) and one answer-contract validator (`contract`). The `plan`
recipe reads them; `buckets` and `templates` subclass the models to add their own sections.
"""
