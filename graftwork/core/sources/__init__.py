"""Source kinds: where items come from and how they become examples (see base.py). Each
source owns its own tables (the Übersicht source: downloads, analysis); recipes
(graftwork.core.recipes) name the source they use."""
