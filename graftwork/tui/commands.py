"""Command palette (ctrl+p): every action, titled `area: verb`, offered only when it applies."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand

from graftwork.tui.widgets.widgets_pane import COLUMNS, QUICK_FILTERS

if TYPE_CHECKING:
    from graftwork.tui.screens.main import MainScreen


def _cmd(title: str, help_: str, callback: Callable[[], object]) -> SystemCommand:
    return SystemCommand(title, help_, callback)


def items_commands(screen: MainScreen) -> Iterable[SystemCommand]:
    """Pane 1 of a recipe other than uebersicht: filter, quick filters, sort, dashboard and
    the view's actions (titled ``items: <label>``)."""
    ip = screen.items_pane

    def go(then: Callable[[], object]) -> Callable[[], object]:
        return lambda: (screen.action_pane("widgets"), then())

    yield _cmd("items: filter", "Type to filter the list", go(ip.action_filter))
    for index, quick in enumerate(ip.filters):
        yield _cmd(
            f"items: show {quick.label}",
            f"Quick filter: {quick.label}",
            go(lambda i=index: ip.action_quick_filter(i)),
        )
    for index, column in enumerate(ip.columns):
        yield _cmd(
            f"items: sort by {column.label.lower()}",
            "Sort the list (again to reverse)",
            go(lambda i=index: ip.sort(i)),
        )
    yield _cmd("items: dashboard", "The recipe's pipeline with its counts", go(ip.action_dashboard))
    if ip.selected_id:
        for action in ip.actions.values():
            yield _cmd(
                f"items: {action.label.lower()}",
                f"{action.label} ({ip.selected_id})",
                lambda a=action.id: ip.action_item_action(a),
            )


def palette_commands(screen: MainScreen) -> Iterable[SystemCommand]:
    services = screen.app.services
    pp, bp, rp = screen.prompt_pane, screen.budget_pane, screen.runs_pane
    cmd = _cmd

    first = "widgets" if screen.view is None else "items"
    for pane in ("widgets", "prompt", "budget", "runs"):
        label = first if pane == "widgets" else pane
        yield cmd(
            f"view: {label}",
            f"Show the {label.capitalize()} pane",
            lambda p=pane: screen.action_pane(p),
        )
    if screen.view is None:
        yield from widgets_commands(screen)
    else:
        yield from items_commands(screen)
    yield from rest_commands(screen, services, pp, bp, rp)


def widgets_commands(screen: MainScreen) -> Iterable[SystemCommand]:
    wp = screen.widgets_pane
    cmd = _cmd
    yield cmd(
        "widgets: filter",
        "Type to filter the table",
        lambda: (screen.action_pane("widgets"), wp.action_filter()),
    )
    for key, (label, _) in QUICK_FILTERS.items():
        yield cmd(
            f"widgets: show {label}",
            f"Quick filter: {label}",
            lambda k=key: (screen.action_pane("widgets"), wp.action_quick_filter(k)),
        )
    for index, (label, _, _) in enumerate(COLUMNS):
        yield cmd(
            f"widgets: sort by {label.lower()}",
            "Sort the table (again to reverse)",
            lambda i=index: wp.sort(i),
        )
    if wp.selected_id:
        yield cmd(
            "widgets: include", "Curation decision: include", lambda: wp.action_decide("include")
        )
        yield cmd(
            "widgets: exclude", "Curation decision: exclude", lambda: wp.action_decide("exclude")
        )
        yield cmd(
            "widgets: needs work",
            "Curation decision: needs work",
            lambda: wp.action_decide("needs_work"),
        )
        yield cmd("widgets: note", "Write a curation note", wp.action_note)


def rest_commands(
    screen: MainScreen, services: Any, pp: Any, bp: Any, rp: Any
) -> Iterable[SystemCommand]:
    cmd = _cmd
    if pp.item_id:
        yield cmd("prompt: save revision", "Save the editor as a revision now", pp.action_save)
        if pp.widget_drafts:
            yield cmd(
                "prompt: insert template draft", "Insert the template draft", pp.action_template
            )
        yield cmd(
            "prompt: restore revision",
            "Restore the revision selected in the list",
            pp.action_restore,
        )
        if services.teacher_draft is not None and pp.widget_drafts:
            yield cmd(
                "prompt: teacher draft", "Ask the teacher for a draft", pp.action_teacher_draft
            )
    yield cmd(
        "budget: edit limit",
        "Change max_sequence_length for the preview",
        lambda: (screen.action_pane("budget"), bp.action_edit_limit()),
    )
    stages = [
        ("ingest", "ingest a manifest", "Download a gallery manifest (path or URL)"),
        ("analyze", "analyze", "Scan downloads"),
        ("prompts.draft", "draft prompts", "Template drafts for widgets without a prompt"),
        ("budget", "budget", "Count tokens of every example"),
        ("build", "build a set", "Build train/valid/test JSONL (asks for a name)"),
        ("export", "export a set", "Export a built set (apple, mlx-chat, alpaca)"),
    ]
    for stage, verb, help_ in stages:
        yield cmd(f"runs: {verb}", help_, lambda s=stage: screen.action_start(s))
    yield cmd("runs: train on a set", "Train a LoRA adapter (training area)", screen.action_train)
    if services.teach_estimate is not None:
        yield cmd(
            "runs: teacher drafts",
            "Teacher drafts for widgets without a prompt (estimate first)",
            screen.action_teach,
        )
    yield cmd(
        "runs: compare training runs",
        "History of training runs; mark two to compare loss curves",
        screen.action_history,
    )
    job = rp.jobs.get(rp.selected_id or "")
    if job is not None and job.kind in ("train", "sample"):
        yield cmd(
            "runs: review samples",
            "Review base and adapter outputs of this run",
            screen.action_review,
        )
    if rp.selected_id and rp.selected_id in screen.cancels:
        yield cmd("runs: cancel job", "Cancel the selected job", rp.action_cancel)
    yield cmd("app: help", "Show every key", screen.app.action_help)
