"""Command palette (ctrl+p): every action, titled `area: verb`, offered only when it applies,
each with its key (as remapped in graftwork.yaml's keymap) after its help line."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand

from graftwork.tui.screens.help import key_text
from graftwork.tui.training.ship_action import run_of
from graftwork.tui.widgets.widgets_pane import COLUMNS, QUICK_FILTERS

if TYPE_CHECKING:
    from graftwork.tui.screens.main import MainScreen


Command = Callable[..., SystemCommand]


def binding_keys(screen: MainScreen) -> dict[str, str]:
    """binding id -> the keys shown for it (the same text as the `?` list)."""
    app = screen.app
    return {
        b.id: key_text(b, app._keymap, app.get_key_display_for)  # type: ignore[attr-defined]
        for _, bindings in app.binding_groups()  # type: ignore[attr-defined]
        for b in bindings
        if b.id
    }


def command_maker(screen: MainScreen) -> Command:
    """``cmd(title, help, callback, *binding_ids, how="")``: a palette command whose help
    line ends with the key of the first binding that has one ("· key x in Runs")."""
    keys = binding_keys(screen)

    def cmd(
        title: str, help_: str, callback: Callable[[], object], *ids: str, how: str = ""
    ) -> SystemCommand:
        shown = [keys[i] for i in ids if i in keys]
        if shown:
            help_ += f"  ·  key {' or '.join(shown)}{how}"
        return SystemCommand(title, help_, callback)

    return cmd


def items_commands(screen: MainScreen, cmd: Command) -> Iterable[SystemCommand]:
    """Pane 1 of a recipe other than uebersicht: filter, quick filters, sort, dashboard and
    the view's actions (titled ``items: <label>``)."""
    ip = screen.items_pane

    def go(then: Callable[[], object]) -> Callable[[], object]:
        return lambda: (screen.action_pane("widgets"), then())

    yield cmd("items: filter", "Type to filter the list", go(ip.action_filter), "items.filter")
    for index, quick in enumerate(ip.filters):
        yield cmd(
            f"items: show {quick.label}",
            f"Quick filter: {quick.label}",
            go(lambda i=index: ip.action_quick_filter(i)),
            "items.quick_filter",
            how=" cycles the filters",
        )
    for index, column in enumerate(ip.columns):
        yield cmd(
            f"items: sort by {column.label.lower()}",
            "Sort the list (again to reverse)",
            go(lambda i=index: ip.sort(i)),
            "items.sort",
            how=" sorts by the next column",
        )
    yield cmd(
        "items: dashboard",
        "The recipe's pipeline with its counts",
        go(ip.action_dashboard),
        "items.dashboard",
    )
    if ip.selected_id:
        for action in ip.actions.values():
            yield cmd(
                f"items: {action.label.lower()}",
                f"{action.label} ({ip.selected_id})",
                lambda a=action.id: ip.action_item_action(a),
                action.id,
            )


def palette_commands(screen: MainScreen) -> Iterable[SystemCommand]:
    services = screen.app.services
    pp, bp, rp = screen.prompt_pane, screen.budget_pane, screen.runs_pane
    cmd = command_maker(screen)

    first = "widgets" if screen.view is None else "items"
    for pane in ("widgets", "prompt", "budget", "runs"):
        label = first if pane == "widgets" else pane
        yield cmd(
            f"view: {label}",
            f"Show the {label.capitalize()} pane",
            lambda p=pane: screen.action_pane(p),
            f"pane.{pane}",
            f"pane.{pane}_f",
        )
    yield from layout_commands(screen, cmd)
    if screen.view is None:
        yield from widgets_commands(screen, cmd)
    else:
        yield from items_commands(screen, cmd)
    yield from rest_commands(screen, cmd, services, pp, bp, rp)


def layout_commands(screen: MainScreen, cmd: Command) -> Iterable[SystemCommand]:
    yield cmd(
        "view: maximize or restore",
        "The focused region fills the screen (again, or escape, restores)",
        screen.action_maximize_region,
        "layout.maximize",
        "layout.maximize_f",
    )
    yield cmd(
        "view: widen the side column",
        "Move the divider left: the detail, revisions or log get wider",
        lambda: screen.action_divider(-1),
        "layout.divider_left",
    )
    yield cmd(
        "view: narrow the side column",
        "Move the divider right: the table or editor get wider",
        lambda: screen.action_divider(1),
        "layout.divider_right",
    )


def widgets_commands(screen: MainScreen, cmd: Command) -> Iterable[SystemCommand]:
    wp = screen.widgets_pane
    yield cmd(
        "widgets: filter",
        "Type to filter the table",
        lambda: (screen.action_pane("widgets"), wp.action_filter()),
        "widgets.filter",
    )
    for key, (label, _) in QUICK_FILTERS.items():
        yield cmd(
            f"widgets: show {label}",
            f"Quick filter: {label}",
            lambda k=key: (screen.action_pane("widgets"), wp.action_quick_filter(k)),
            "widgets.quick_filter",
            how=" cycles the filters",
        )
    for index, (label, _, _) in enumerate(COLUMNS):
        yield cmd(
            f"widgets: sort by {label.lower()}",
            "Sort the table (again to reverse)",
            lambda i=index: wp.sort(i),
            "widgets.sort",
            how=" sorts by the next column",
        )
    if wp.selected_id:
        for decision, label in (
            ("include", "include"),
            ("exclude", "exclude"),
            ("needs_work", "needs work"),
        ):
            yield cmd(
                f"widgets: {label}",
                f"Curation decision: {label}",
                lambda d=decision: wp.action_decide(d),
                f"widgets.{decision}",
            )
        yield cmd(
            "widgets: clear decision",
            "Remove the curation decision (its history keeps it)",
            lambda: wp.action_decide("clear"),
            "widgets.clear_decision",
        )
        yield cmd("widgets: note", "Write a curation note", wp.action_note, "widgets.note")


def prompt_commands(cmd: Command, services: Any, pp: Any) -> Iterable[SystemCommand]:
    if not pp.item_id:
        return
    yield cmd(
        "prompt: save revision", "Save the editor as a revision now", pp.action_save, "prompt.save"
    )
    if pp.widget_drafts:
        yield cmd(
            "prompt: insert template draft",
            "Insert the template draft",
            pp.action_template,
            "prompt.template",
        )
    yield cmd(
        "prompt: restore revision",
        "Restore the revision selected in the list",
        pp.action_restore,
        "prompt.restore",
    )
    if services.teacher_draft is not None and pp.widget_drafts:
        yield cmd(
            "prompt: teacher draft",
            "Ask the teacher for a draft",
            pp.action_teacher_draft,
            "prompt.teacher_draft",
        )
    if pp.proposal is not None:
        yield cmd(
            "prompt: accept teacher draft",
            "Replace the prompt with the teacher's draft",
            pp.action_accept_proposal,
            "prompt.accept_proposal",
        )
        yield cmd(
            "prompt: reject teacher draft",
            "Keep the prompt, drop the teacher's draft",
            pp.action_reject_proposal,
            "prompt.reject_proposal",
        )


def rest_commands(
    screen: MainScreen, cmd: Command, services: Any, pp: Any, bp: Any, rp: Any
) -> Iterable[SystemCommand]:
    yield from prompt_commands(cmd, services, pp)
    yield cmd(
        "budget: edit limit",
        "Change max_sequence_length for the preview",
        lambda: (screen.action_pane("budget"), bp.action_edit_limit()),
        "budget.limit",
    )
    stages = [
        ("ingest", "ingest a manifest", "Download a gallery manifest (path or URL)", "ingest"),
        ("analyze", "analyze", "Scan downloads", "analyze"),
        (
            "prompts.draft",
            "draft prompts",
            "Template drafts for widgets without a prompt",
            "draft_prompts",
        ),
        ("budget", "budget", "Count tokens of every example", "budget"),
        ("build", "build a set", "Build train/valid/test JSONL (asks for a name)", "build"),
        ("export", "export a set", "Export a built set (apple, mlx-chat, alpaca)", "export"),
    ]
    in_runs = " in Runs"
    for stage, verb, help_, binding in stages:
        yield cmd(
            f"runs: {verb}",
            help_,
            lambda s=stage: screen.action_start(s),
            f"runs.{binding}",
            how=in_runs,
        )
    yield cmd(
        "runs: train on a set",
        "Train a LoRA adapter (training area)",
        screen.action_train,
        "runs.train",
        how=in_runs,
    )
    if services.teach_estimate is not None:
        yield cmd(
            "runs: teacher drafts",
            "Teacher drafts for widgets without a prompt (estimate first)",
            screen.action_teach,
            "runs.teach",
            how=in_runs,
        )
    if services.teach_categories_estimate is not None and screen.view is None:
        yield cmd(
            "runs: teacher categories",
            "A category per widget without one, as AI_category (estimate first)",
            screen.action_teach_categories,
            "runs.teach_categories",
            how=in_runs,
        )
    yield cmd(
        "runs: compare training runs",
        "History of training runs; mark two to compare loss curves",
        screen.action_history,
        "runs.history",
        how=in_runs,
    )
    job = rp.jobs.get(rp.selected_id or "")
    if job is not None and job.kind in ("train", "sample"):
        yield cmd(
            "runs: review samples",
            "Review base and adapter outputs of this run",
            screen.action_review,
            "runs.review",
            how=in_runs,
        )
    if run_of(job) is not None:
        yield cmd(
            "runs: ship a run",
            "Fuse and export this job's run (mlx, gguf, ollama or fmadapter) as a job",
            screen.action_ship,
            "runs.ship",
            how=in_runs,
        )
    if rp.selected_id and rp.selected_id in screen.cancels:
        yield cmd(
            "runs: cancel job",
            "Cancel the selected job",
            rp.action_cancel,
            "runs.cancel",
            how=in_runs,
        )
    yield cmd("app: help", "Show every key", screen.app.action_help, "app.help")
