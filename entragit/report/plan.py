"""How a restore plan and its outcome read in a terminal."""

from __future__ import annotations

from collections import Counter, defaultdict

import click

from entragit.printable import printable
from entragit.report.markdown import _cell
from entragit.registry import REGISTRY
from entragit.report.model import AttributeChange, RiskFlag, named
from entragit.report.values import show
from entragit.restore import AS_RESTORED, ApplyResult, Blocked, Plan, RunResult, Step
from entragit.restore.planner.state import get_path, listed
from entragit.restore.model import EXIT_REHEARSAL_FAILED, Rehearsal

_VERBS = {"restore": "RESTORE", "create": "CREATE", "disable": "DISABLE", "reset": "RESET", "patch": "PATCH",
          "rewrite": "REWRITE", "remove-credential": "REVOKE", "remove-item": "REMOVE", "add-item": "ADD", "set-ref": "SET",
          "add-ref": "ADD", "remove-ref": "REMOVE", "delete-ref": "CLEAR", "delete": "DELETE"}
_COUNTS = (("restore", "restore(s) from a recycle bin"), ("create", "creation(s)"),
           ("disable", "disabling(s) before removal"), ("reset", "reset(s) to Graph's defaults"), ("patch", "object update(s)"),
           ("rewrite", "object(s) whose references follow a recreated object"),
           ("remove-credential", "credential(s) to remove"), ("remove-item", "list item(s) to remove"),
           ("add-item", "list item(s) to add"), ("add-ref", "link(s) to add"),
           ("remove-ref", "link(s) to remove"), ("set-ref", "reference(s) to set"),
           ("delete-ref", "reference(s) to clear"), ("delete", "deletion(s)"))


def plan_summary(plan: Plan) -> str:
    kinds = Counter(str(step.kind) for step in plan.steps)
    parts = [f"{kinds[k]} {label}" for k, label in _COUNTS if kinds[k]]
    writes = ", ".join(parts) if parts else "nothing to write"
    line = f"{len(plan.steps)} write(s): {writes}; {len(_refused(plan))} difference(s) cannot be restored."
    risky = Counter(max((f.severity for f in step.risks), key=_SEVERITY.index) for step in plan.steps if step.risks)
    if risky["high"]:
        line += (f" {risky['high']} high-risk write(s), marked above: writing the plan needs --accept-risk"
                 " (--yes alone refuses).")
    if risky["medium"]:
        line += f" {risky['medium']} medium-risk write(s), marked above."
    return line


_SEVERITY = ("medium", "high")


def _revision(label: str, commit: str) -> str:
    return commit[:10] if commit.startswith(label) or label.startswith(commit[:7]) else f"{label} ({commit[:10]})"


def _refused(plan: Plan) -> list[Blocked]:
    """What the plan lists as not restorable, each once, whatever added it (the planner, guardrails, apply,
    a plan saved by an older version): every count shown is of this list."""
    return list(dict.fromkeys(plan.blocked))


def _blocked_lines(blocked: list[Blocked]) -> list[str]:
    """One line per object and reason: fourteen refused member adds on one dynamic group read as one."""
    grouped: dict[tuple[str, str, str | None, str], list[str]] = defaultdict(list)
    for item in blocked:
        grouped[(item.type, item.id, item.name, item.reason)].append(item.what)
    lines = []
    for (type_name, object_id, name, reason), whats in grouped.items():
        what = whats[0] if len(whats) == 1 else f"{len(whats)} differences ({', '.join(whats[:3])}{', ...' if len(whats) > 3 else ''})"
        lines.append(printable(f"  {type_name}/{object_id} {name or ''}: {what}: {reason}"))
    return lines


def _new_id(old: str, new: str | None, made: dict[str, str | None]) -> str:
    if new is not None:
        return new
    return f"the new id of {made.get(old) or old} (assigned when applied)"


def _value(plan: Plan, step: Step, path: str, value: object) -> str:
    """A value as a plan shows it, whole: a person approves what it writes (a cut credential list or rule
    would hide part of it). Each id of another object has its name beside it, as diff does."""
    shown = named(plan.names, step.type, path, value)
    if shown is value:
        return show(value, limit=None)
    return printable(", ".join(map(str, listed(shown))) if shown else "[]")


def _references(plan: Plan, step: Step) -> list[str]:
    """The objects a new object names: whom a role assignment is for and which role, a policy's groups."""
    found = ((path, get_path(step.body, path.split("."))) for path in REGISTRY[step.type].references)
    return [f"{path}: {_value(plan, step, path, value)}" for path, value in found if value not in (None, [])]


def _step_notes(plan: Plan, step: Step, made: dict[str, str | None]) -> list[str]:
    """made: old id -> name of each object the plan makes again under a new id."""
    pad = " " * 11
    if step.kind == "rewrite":
        # Until Graph gives the new id, what follows the arrow names the object already.
        return [f"{pad}rewrite reference {c.path}: {c.old if c.new is None else _value(plan, step, c.path, c.old)} "
                f"-> {_new_id(c.old, c.new, made)}" for c in step.changes]
    if step.kind == "restore":
        return [f"{pad}same id; Graph brings back its properties and links as they were when deleted"]
    if step.kind == "create":
        references = [f"{pad}{line}" for line in _references(plan, step)]
        if not step.assigns:
            return [f"{pad}gone for good; made again under the same key", *references]
        # The ids are Graph's to give: the plan can only say that every reference follows.
        return [f"{pad}gone for good; made again: {prop} {old} -> new {prop} (assigned when applied); "
                "references to it in this plan follow" for prop, old in step.assigns] + references
    if step.kind == "disable":
        return [f"{pad}{step.detail}: Graph removes an app role or scope only once it is disabled"]
    if step.kind == "reset":
        return [f"{pad}the snapshot holds Graph's own defaults: {step.path.rsplit('/', 1)[-1]} puts them back"]
    if step.kind == "remove-credential":
        return [f"{pad}{step.detail}: added since the snapshot"]
    if step.kind == "delete":
        return [f"{pad}not in the snapshot (--delete-extra)",
                *(f"{pad}{c.path}: {_value(plan, step, c.path, c.old)}" for c in step.changes)]
    width = max(len(printable(c.path)) for c in step.changes) if step.changes else 0
    return [f"{pad}{printable(change.path).ljust(width)}  {_change(plan, step, change)}" for change in step.changes]


def _change(plan: Plan, step: Step, change: AttributeChange) -> str:
    new = _value(plan, step, change.path, change.new)
    if change.old == AS_RESTORED:
        return f"{change.old}  ->  {new}"
    if change.old == change.new:
        return f"{new}: names an object made again; rewritten to its new id"
    return f"{_value(plan, step, change.path, change.old)}  ->  {new}"


def _made(plan: Plan) -> dict[str, str | None]:
    return {old: step.name for step in plan.steps if step.kind == "create" for _, old in step.assigns}


def _title(plan: Plan) -> str:
    selected = ", ".join(f"{len(ids)} {name}" for name, ids in plan.selected.items())
    attributes = plan.selection.attributes
    scope = f" (attributes: {', '.join(attributes)})" if attributes else ""
    return printable(f"Restore plan: {selected} from {_revision(plan.at, plan.commit)}{scope}")


def _what(step: Step) -> str:
    """The object a step writes, or the link it adds or removes."""
    if step.member is None:
        return printable(f"{step.type}/{step.id}  {step.name or ''}".rstrip())
    rel, member_id, member_name = step.member
    return printable(f"{member_name or '(unknown)'} ({member_id}) {'to' if step.kind in ('add-ref', 'set-ref') else 'from'} "
            f"{rel} of {step.name or ''} ({step.type}/{step.id})")


def _risk_line(flag: RiskFlag) -> str:
    return printable(f"RISK {flag.severity.upper()}: {flag.rule}: {flag.detail}")


def render_plan(plan: Plan, limit: int | None = None) -> str:
    lines = [click.style(_title(plan), bold=True), ""]
    steps = plan.steps if limit is None else plan.steps[:limit]
    made = _made(plan)
    for step in steps:
        verb = click.style(_VERBS[step.kind].ljust(7), fg="red" if step.kind == "delete" else "cyan", bold=True)
        lines.append(f"  {verb} {_what(step)}")
        if step.member is None:
            lines += [printable(note) for note in _step_notes(plan, step, made)]
        lines += [click.style(f"{' ' * 11}{_risk_line(flag)}", fg="red" if flag.severity == "high" else "yellow",
                              bold=True) for flag in step.risks]
    if limit is not None and len(plan.steps) > limit:
        lines.append(f"  ... and {len(plan.steps) - limit} more write(s)")
    if refused := _refused(plan):
        lines += ["", click.style(f"Cannot restore ({len(refused)}):", fg="yellow", bold=True)]
        lines += _blocked_lines(refused)
    lines += ["", plan_summary(plan)]
    return "\n".join(lines)


def render_plan_markdown(plan: Plan) -> str:
    """The plan for a pull request comment or a change ticket: risky writes first, then every write."""
    lines = [f"### entragit: {_cell(_title(plan))}", ""]
    risky = [(step, flag) for step in plan.steps for flag in step.risks]
    if risky:
        lines += ["> [!CAUTION]", f"> **{len(risky)} risky write(s):**"]
        lines += [f"> - **{flag.severity}** `{flag.rule}`: {_cell(_VERBS[step.kind])} {_cell(_what(step))}: "
                  f"{_cell(flag.detail)}" for step, flag in risky]
        lines.append("")
    made = _made(plan)
    if plan.steps:
        lines += ["| Write | Object | Details | Risk |", "|---|---|---|---|"]
        for step in plan.steps:
            notes = "<br>".join(_cell(n.strip()) for n in _step_notes(plan, step, made)) if step.member is None else ""
            risks = "<br>".join(f"**{f.severity}** `{f.rule}`: {_cell(f.detail)}" for f in step.risks)
            lines.append(f"| {_VERBS[step.kind]} | {_cell(_what(step))} | {notes} | {risks} |")
        lines.append("")
    if refused := _refused(plan):
        lines += [f"**Cannot restore ({len(refused)}):**", ""]
        lines += [f"- {_cell(line.strip())}" for line in _blocked_lines(refused)]
        lines.append("")
    lines.append(_cell(plan_summary(plan)))
    return "\n".join(lines)


def render_result(result: ApplyResult) -> str:
    lines = [f"Wrote {len(result.done)} change(s)" + (f", {len(result.failed)} failed:" if result.failed else ".")]
    for step, error in result.failed:
        lines.append(click.style(printable(f"  failed: {step.describe()}: {error}"), fg="red"))
    for old, new in sorted(result.created.items()):
        lines.append(printable(f"  created: {old} is now {new}"))
    residue = result.residue
    if residue.steps:
        lines.append(click.style(f"Residue: {len(residue.steps)} difference(s) remain after re-reading:",
                                 fg="red", bold=True))
        lines += [printable(f"  {step.describe()}") for step in residue.steps]
    else:
        lines.append(click.style(f"Verified: re-read {residue.object_count} object(s); they match "
                                 f"{_revision(residue.at, residue.commit)}.",
                                 fg="green", bold=True))
    if residue.blocked:
        lines.append(f"Still not restorable: {len(_refused(residue))} difference(s), listed in the plan above.")
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


def _loaded(rehearsal: Rehearsal) -> str:
    return ", ".join(f"{count} {name}" for name, count in rehearsal.loaded.items()) or "no object"


def _verdict(rehearsal: Rehearsal, tenant: str) -> tuple[str, str]:
    """(headline, the rest) of what the rehearsal found."""
    if rehearsal.clean:
        return "The rehearsal applied cleanly", f"; nothing was written to tenant {tenant}."
    found = [f"{count} {what}" for count, what in (
        (len(rehearsal.refusals), "refusal(s) before writing"),
        (len(rehearsal.result.failed), "step(s) Graph refused"),
        (rehearsal.left, "difference(s) verification would still find")) if count]
    return (f"The rehearsal found {', '.join(found)}",
            f"; nothing was written to tenant {tenant} (exit code {EXIT_REHEARSAL_FAILED}).")


def render_rehearsal(rehearsal: Rehearsal, tenant: str) -> str:
    """What the rehearsal tenant answered and what its verification found, then the verdict."""
    lines = [click.style("Rehearsal", bold=True) + f" in a simulated tenant loaded from this one ({_loaded(rehearsal)}):"]
    lines += ["  " + line for line in render_result(rehearsal.result).splitlines()]
    for refusal in rehearsal.refusals:
        lines.append(click.style("Refused before writing: ", fg="red", bold=True) + printable(refusal))
    lines += [printable(f"note: {note}") for note in rehearsal.notes]
    headline, rest = _verdict(rehearsal, tenant)
    lines.append(click.style(headline, fg="green" if rehearsal.clean else "red", bold=True) + printable(rest))
    return "\n".join(lines)


def render_rehearsal_markdown(rehearsal: Rehearsal, tenant: str) -> str:
    """The rehearsal for a pull request comment."""
    result = rehearsal.result
    lines = ["### entragit: rehearsal in a simulated tenant", "",
             f"Loaded from the tenant: {_cell(_loaded(rehearsal))}. Graph accepted {len(result.done)} of "
             f"{len(result.done) + len(result.failed)} write(s).", ""]
    lines += [f"- **Refused by Graph:** {_cell(step.describe())}: {_cell(str(error))}" for step, error in result.failed]
    lines += [f"- created: `{_cell(old)}` is now `{_cell(new)}`" for old, new in sorted(result.created.items())]
    lines += [f"- **Still different after verification:** {_cell(step.describe())}" for step in result.residue.steps]
    lines += [f"- **Still different, cannot be restored:** {_cell(b.type)}/{_cell(b.id)} {_cell(b.what)}: "
              f"{_cell(b.reason)}" for b in result.residue.blocked]
    lines += [f"- **Refused before writing:** {_cell(refusal)}" for refusal in rehearsal.refusals]
    lines += [f"- _note: {_cell(note)}_" for note in rehearsal.notes]
    headline, rest = _verdict(rehearsal, tenant)
    return "\n".join([*lines, "", f"**{headline}**{_cell(rest)}"])
