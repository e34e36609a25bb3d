"""UI-free engine. Never imports textual, rich, httpx, openai or mlx (tests enforce it)."""
