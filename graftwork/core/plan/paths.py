"""Where the plan recipe's files go: the seed's layout under the workspace, so its users
find them where they were (data/interim, data/processed, eval/suites). The sample area
lives in its own sub-folders and never mixes with the full run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from graftwork.core.base.workspace import Workspace

DEFAULT_SPEC = "spec.yaml"


@dataclass(frozen=True)
class PlanPaths:
    ws: Workspace
    version: str = "v1"
    area: str = "main"  # main | sample

    def _sub(self, base: Path) -> Path:
        return base / "sample" if self.area == "sample" else base

    @property
    def interim(self) -> Path:
        return self._sub(self.ws.root / "data" / "interim")

    @property
    def processed(self) -> Path:
        return self._sub(self.ws.root / "data" / "processed")

    @property
    def plan_file(self) -> Path:
        # The plan is one for both areas: a sample run takes its first N prompts.
        return self.ws.root / "data" / "interim" / f"prompt_plan_{self.version}.jsonl"

    def interim_file(self, kind: str) -> Path:  # drafts | critiques
        return self.interim / f"{kind}_{self.version}.jsonl"

    def dataset_file(self, suffix: str = "", ext: str = "jsonl") -> Path:
        return self.processed / f"dataset_{self.version}{suffix}.{ext}"

    @property
    def splits_dir(self) -> Path:
        return self.processed / "splits" / self.version

    @property
    def sft_dir(self) -> Path:
        return self.processed / "sft" / self.version

    def suite_file(self, name: str) -> Path:
        return self._sub(self.ws.root / "eval" / "suites") / f"{name}_{self.version}.jsonl"


def default_spec_path(ws: Workspace) -> Path:
    return ws.root / DEFAULT_SPEC
