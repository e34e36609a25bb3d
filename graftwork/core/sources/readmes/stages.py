"""Stage declarations of the readmes recipe (see graftwork.core.stages)."""

from __future__ import annotations

from graftwork.core.stages import Param, StageSpec, declare

STAGES = (
    declare(
        StageSpec(
            name="collect",
            label="collect",
            fn="graftwork.wiring:collect",
            params=(
                Param(
                    "sources",
                    list,
                    (),
                    help="a repository to collect: a folder or a URL git accepts",
                    flag="--source",
                    key="sources",
                    metavar="PATH_OR_URL",
                    pipeline=True,
                    paths=True,
                ),
                Param(
                    "repos_file",
                    str,
                    help="a list file: one folder or URL a line",
                    flag="--repos",
                    metavar="FILE",
                    pipeline=True,
                    paths=True,
                ),
                Param(
                    "awesome",
                    list,
                    (),
                    help="an awesome-list Markdown file or URL: every GitHub repository it names",
                    metavar="FILE_OR_URL",
                    pipeline=True,
                    paths=True,
                ),
                Param("api", bool, False, help="github.com over the REST API instead of git."),
                Param("concurrency", int, help="Repositories at once."),
            ),
            reads=("folders", "git remotes", "GitHub REST API", "readme_http_cache"),
            writes=(
                "readme_repos",
                "readme_http_cache",
                "repos/<id>/",
                "collection/awesome_readme_data.json",
            ),
            help="Collect repositories: README, file tree, language, type, licence, key files.",
            one_of=("sources", "repos_file", "awesome"),
        )
    ),
    declare(
        StageSpec(
            name="chunk",
            label="chunk",
            fn="graftwork.core.sources.readmes.chunks:chunk_stage",
            params=(
                Param("repos", list, help="Only these repositories."),
                Param("force", bool, False, help="Chunk unchanged READMEs again."),
                Param("min_chars", int, help="Smallest chunk (characters)."),
                Param("max_chars", int, help="Largest chunk (a code block may exceed it)."),
            ),
            reads=("readme_repos",),
            writes=("readme_chunks", "readme_chunk_stats", "items", "prompt_revisions"),
            help="Split READMEs into chunks, each an item with a template instruction.",
        )
    ),
    declare(
        StageSpec(
            name="teach.instructions",
            label="teach instructions",
            fn="graftwork.wiring:instruct",
            kind="instruct",
            params=(
                Param("overrides", dict, {}, help="Teacher settings over graftwork.yaml."),
                Param("limit", int, help="The next N chunks."),
                Param("sample", int, help="N chunks into the sample area."),
                Param("resume", bool, False, help="Continue the last unfinished run."),
                Param("fresh", bool, False, help="Do not reuse finished calls of earlier runs."),
                Param("repos", list, help="Only chunks of these repositories."),
                Param("batch_size", int, help="Chunks per teacher call."),
            ),
            reads=("readme_chunks", "readme_repos", "teacher_calls"),
            writes=("prompt_revisions", "teacher_calls", "teach_runs", "teach_tasks"),
            record="graftwork.core.teach.config:recorded_params",
            help="The teacher writes one instruction per chunk, in batches.",
        )
    ),
    declare(
        StageSpec(
            name="records",
            label="records",
            fn="graftwork.core.sources.readmes.records:records_stage",
            params=(Param("set_name", str, required=True, flag="--set", help="A built set."),),
            reads=("datasets/<set>/manifest.json", "readme_chunks", "prompt_revisions"),
            writes=(
                "datasets/<set>/sft_dataset.json",
                "datasets/<set>/train.json",
                "datasets/<set>/test.json",
            ),
            help="The seed's SFT files beside a built set.",
        )
    ),
)
