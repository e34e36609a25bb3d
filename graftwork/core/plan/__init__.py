"""The `plan` recipe (seed 002): spec -> planned prompts -> teacher drafts, critiques and
refinements -> gated dataset -> QA, splits, SFT files and a fixed evaluation suite."""
