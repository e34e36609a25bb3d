"""mlx-lm adapter: tiny offline model, training child process, parent-side trainer, fuse.

Nothing here imports mlx at module level; the heavy imports happen inside functions (and
mostly inside the spawned child process)."""
