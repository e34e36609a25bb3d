"""Training and review widgets for the workstation. Everything reads and writes the catalog
through core functions in thread workers; nothing here imports adapters.

- `run_view.TrainingRunView(ws, run_or_job_id)`: one run, live (loss chart, speed, memory, log).
  Accepts a run id, a unique prefix, or the id of the `train` job that drove the run.
- `run_history.RunHistory(ws)`: every run; space marks up to two to compare their curves;
  Enter posts `RunHistory.RunChosen(run_id)`.
- `history_screen.RunHistoryScreen(ws)`: RunHistory as a Screen (Runs pane `h`); dismisses with
  (run_id, job_id or None) on Enter, None on Escape.
- `review_screen.ReviewScreen(ws, run_id)`: a self-contained Screen. `push_screen(screen, cb)`:
  `cb` receives the widget id to select when the user pressed `w`, else None. It also posts
  `ReviewScreen.JumpToItem(item_id, run_id)` to the app.
"""
