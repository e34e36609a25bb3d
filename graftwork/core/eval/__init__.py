"""Evaluation of training runs: base model vs adapter on the same examples (loss, perplexity,
tokens/s, the recipe's metrics, an optional pairwise judgement by the teacher), stored per run
in the catalog (`eval_results`, read with `store.latest_scores`)."""
