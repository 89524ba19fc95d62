"""How a restore plan and its outcome read in a terminal."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING

import click

from entragit.report.values import show
from entragit.restore import ApplyResult, Blocked, Plan

if TYPE_CHECKING:
    from entragit.execute import RunResult

_VERBS = {"patch": "PATCH", "set-ref": "SET", "add-ref": "ADD", "remove-ref": "REMOVE", "delete-ref": "CLEAR"}


def plan_summary(plan: Plan) -> str:
    kinds = Counter(step.kind for step in plan.steps)
    parts = [f"{kinds[k]} {label}" for k, label in (
        ("patch", "object update(s)"), ("add-ref", "link(s) to add"), ("remove-ref", "link(s) to remove"),
        ("set-ref", "reference(s) to set"), ("delete-ref", "reference(s) to clear")) if kinds[k]]
    writes = ", ".join(parts) if parts else "nothing to write"
    return f"{len(plan.steps)} write(s): {writes}; {len(plan.blocked)} difference(s) cannot be restored."


def _revision(label: str, commit: str) -> str:
    return commit[:10] if commit.startswith(label) or label.startswith(commit[:7]) else f"{label} ({commit[:10]})"


def _blocked_lines(blocked: list[Blocked]) -> list[str]:
    """One line per object and reason: fourteen refused member adds on one dynamic group read as one."""
    grouped: dict[tuple[str, str, str | None, str], list[str]] = defaultdict(list)
    for item in blocked:
        grouped[(item.type, item.id, item.name, item.reason)].append(item.what)
    lines = []
    for (type_name, object_id, name, reason), whats in grouped.items():
        what = whats[0] if len(whats) == 1 else f"{len(whats)} differences ({', '.join(whats[:3])}{', ...' if len(whats) > 3 else ''})"
        lines.append(f"  {type_name}/{object_id} {name or ''}: {what}: {reason}")
    return lines


def render_plan(plan: Plan, limit: int | None = None) -> str:
    selected = ", ".join(f"{len(ids)} {name}" for name, ids in plan.selected.items())
    scope = f" (attributes: {', '.join(plan.attributes)})" if plan.attributes else ""
    lines = [click.style(f"Restore plan: {selected} from {_revision(plan.at, plan.commit)}{scope}", bold=True), ""]
    steps = plan.steps if limit is None else plan.steps[:limit]
    for step in steps:
        verb = click.style(_VERBS[step.kind].ljust(6), fg="cyan", bold=True)
        if step.member is None:
            lines.append(f"  {verb} {step.type}/{step.id}  {step.name or ''}".rstrip())
            width = max(len(c.path) for c in step.changes) if step.changes else 0
            for change in step.changes:
                lines.append(f"           {change.path.ljust(width)}  {show(change.old)}  ->  {show(change.new)}")
        else:
            rel, member_id, member_name = step.member
            lines.append(f"  {verb} {member_name or '(unknown)'} ({member_id}) "
                         f"{'to' if step.kind in ('add-ref', 'set-ref') else 'from'} {rel} of "
                         f"{step.name or ''} ({step.type}/{step.id})")
    if limit is not None and len(plan.steps) > limit:
        lines.append(f"  ... and {len(plan.steps) - limit} more write(s)")
    if plan.blocked:
        lines += ["", click.style(f"Cannot restore ({len(plan.blocked)}):", fg="yellow", bold=True)]
        lines += _blocked_lines(plan.blocked)
    lines += ["", plan_summary(plan)]
    return "\n".join(lines)


def render_result(result: ApplyResult) -> str:
    lines = [f"Wrote {len(result.done)} change(s)" + (f", {len(result.failed)} failed:" if result.failed else ".")]
    for step, error in result.failed:
        lines.append(click.style(f"  failed: {step.describe()}: {error}", fg="red"))
    residue = result.residue
    if residue.steps:
        lines.append(click.style(f"Residue: {len(residue.steps)} difference(s) remain after re-reading:",
                                 fg="red", bold=True))
        lines += [f"  {step.describe()}" for step in residue.steps]
    else:
        lines.append(click.style(f"Verified: re-read {residue.object_count} object(s); they match "
                                 f"{_revision(residue.at, residue.commit)}.",
                                 fg="green", bold=True))
    if residue.blocked:
        lines.append(f"Still not restorable: {len(residue.blocked)} difference(s), listed in the plan above.")
    return "\n".join(lines)


def render_run(run: RunResult) -> str:
    """Where the tenant's state before the run was kept, so the run can be undone the same way."""
    if run.before_branch:
        where = f"committed {run.before[:10]} on branch {run.before_branch}"
    else:
        where = f"it matched {run.before[:10]}, the newest snapshot"
    resumed = " (this run resumed an interrupted one)" if run.resumed else ""
    return (f"Before writing, the tenant was snapshotted: {where}{resumed}. "
            f"To undo this restore: entragit restore --at {run.before[:10]} with the same selection.")
