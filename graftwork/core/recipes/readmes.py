"""The `readmes` recipe (seed 001): repositories -> README chunks -> one teacher instruction
per chunk -> examples {instruction + the repository's file tree, type and key files -> the
chunk} -> splits by repository -> the seed's SFT files, the usual exports, training, and
`graftwork readme` to write a README for a new folder."""

from __future__ import annotations

from graftwork.core.recipes import Column, Recipe
from graftwork.core.sources.readmes import stages as _stages  # noqa: F401  (declares the stages)

RECIPE = Recipe(
    name="readmes",
    summary="Repositories -> README chunks -> teacher instructions -> an adapter that writes READMEs.",
    source="readmes",
    stages=("collect", "chunk", "teach.instructions", "budget", "build", "records"),
    example_shape="alpaca",
    set_format="chat",
    formats=("alpaca", "mlx-chat", "apple"),
    columns=(
        Column("repo", "repository", 16),
        Column("heading", "section", 14),
        Column("chars", "chars", 5),
        Column("chunks", "chunks", 6),
        Column("readme", "README", 8),
        Column("license", "licence", 9),
        Column("split", "split", 5),
        Column("state", "instruct", 8),
        Column("instruction", "instruction"),
    ),
    examples="graftwork.core.sources.readmes.provider:provider",
    view="graftwork.core.sources.readmes.view:view",
    run_hint="#   sources: [~/src/tool, https://github.com/owner/repo]   (--source, repeatable)\n"
    "#   awesome: [awesome.md]\n#   repos: repos.txt\n#   set: readmes-v1\n",
)
