"""The entragit command line: each command parses, calls one library function, renders the result."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from entragit import __version__
from entragit import output as ui
from entragit.errors import EntragitError
from entragit.printable import printable

FORMATS = ("table", "markdown", "json", "html")
EXIT_INTERRUPTED = 130  # what a shell reports for a command ended by Ctrl-C (128 + SIGINT)


def _error(message: str) -> None:
    # A message may quote a name or an id from Graph or a file: printable keeps it one line.
    click.echo(click.style("error: ", fg="red", bold=True) + printable(message), err=True, color=ui.current.color)


class _Group(click.Group):
    """Turns the errors a user can expect into one line and exit code 1 (130 for Ctrl-C); anything else is a bug.

    Exit code 2 means "differences found" (--exit-code), so a pipeline must never get it for a mistyped
    option: click's usage errors, which exit 2 by default, exit 1 here, as one line with where to look.
    """

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        # Before the options are read, a usage error already honours NO_COLOR.
        ui.configure(None, quiet=False, verbose=False)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else self.name
            _error(f"{exc.format_message()} (see {where} --help)")
            sys.exit(1)
        except click.ClickException as exc:
            _error(exc.format_message())
            sys.exit(1)
        except click.Abort as exc:
            if isinstance(exc.__context__, KeyboardInterrupt):  # click turns Ctrl-C, at a prompt too, into Abort
                _error("interrupted")
                sys.exit(EXIT_INTERRUPTED)
            _error("aborted: nothing written")  # the confirmation was declined, or stdin ended
            sys.exit(1)
        except EntragitError as exc:
            _error(str(exc))
            sys.exit(1)
        except OSError as exc:
            # The environment, not entragit: a full disk, a file without permission, a folder where a
            # file was expected.
            _error(f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""))
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


repo_option = click.option(
    "--repo", "repo_dir", type=click.Path(file_okay=False, path_type=Path), default=".", show_default=True,
    help="The backup repository.",
)


def _open(repo_dir: Path) -> Any:
    from entragit.store import BackupRepo

    repo = BackupRepo(repo_dir)
    for note in repo.config.notes:
        ui.info(printable(f"note: {note}"))
    # Whatever the command, what a killed entragit run left is taken back first, and said.
    for line in repo.recover():
        ui.info(printable(f"recovered: {line}"))
    return repo


@click.group(name="entragit", cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="entragit")
@click.option("--color/--no-color", default=None,
              help="Colour the output, or not. Default: on a terminal only, and never when NO_COLOR is set.")
@click.option("-q", "--quiet", is_flag=True, help="Print errors and the result only: no notes, hints or progress.")
@click.option("-v", "--verbose", is_flag=True,
              help="Also log every HTTP request on stderr: method, URL, status and time (credentials left out).")
@click.pass_context
def cli(ctx: click.Context, color: bool | None, quiet: bool, verbose: bool) -> None:
    """Backup, drift review and point-in-time restore for a Microsoft Entra ID tenant, on git.

    \b
    Try it without a tenant:   entragit demo
    Back up a tenant:          entragit init backup --tenant ID --client-id ID
                               AZURE_CLIENT_SECRET=... entragit snapshot --repo backup

    \b
    Exit codes:
      0    done (and, with --exit-code, no differences)
      1    an error, a refusal or a usage mistake: one line on stderr, starting with "error:"
      2    differences found: only ever with --exit-code
      130  interrupted (Ctrl-C)
    """
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose contradict each other: give one")
    # click's own colour switch: every click.echo of the run, and the contexts of subcommands, follow it.
    ctx.color = ui.configure(color, quiet, verbose).color
    ctx.call_on_close(ui.reset)


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--tenant", "tenant_id", help="Directory (tenant) id.")
@click.option("--client-id", help="Application (client) id of the app that reads the tenant.")
@click.option("--cloud", type=click.Choice(["global", "usgov", "usgovdod", "china"]), default="global",
              show_default=True, help="National cloud: picks the Graph and sign-in hosts.")
@click.option("--auth", type=click.Choice(["secret", "certificate", "federated", "managed-identity"]),
              help="How the app signs in: AZURE_CLIENT_SECRET (the default), a certificate at "
                   "AZURE_CLIENT_CERTIFICATE_PATH, a federated token (AZURE_FEDERATED_TOKEN_FILE or GitHub "
                   "Actions OIDC), with no secret, or the managed identity of the Azure VM it runs on "
                   "(user-assigned: AZURE_CLIENT_ID); federated with --ci.")
@click.option("--sim", "sim_info", type=click.Path(dir_okay=False, path_type=Path),
              help="Back up a simulated tenant described by an `entragit sim serve --info` file (kept in "
                   "the new repository's own git config, entragit.simulator, never in entragit.yaml).")
@click.option("--refresh", is_flag=True,
              help="Only set up what a clone lacks in an existing backup repository: the git diff driver, and "
                   "the remote's default branch as the trusted branch of the guardrails.")
@click.option("--ci", "ci_platform", type=click.Choice(["github", "azure-devops"]),
              help="Also write the snapshot and restore pipelines of this platform (into a new repository, or "
                   "an existing one: a file that differs from the template is kept, and said).")
def init(directory: Path, tenant_id: str | None, client_id: str | None, cloud: str, auth: str | None,
         sim_info: Path | None, refresh: bool, ci_platform: str | None) -> None:
    """Create a backup repository in DIRECTORY (default: here; git init + entragit.yaml).

    No secret is ever written into the repository: snapshots read it from the environment (the
    names azure-identity uses), or, for a simulated tenant, from the simulator's info file. The
    branch created is the trusted branch: guardrails in entragit.yaml loosen only by a commit on it.

    \b
    entragit init backup --tenant 72f988bf-... --client-id 4a1aa1d5-...
    entragit init backup --sim sim.json
    entragit init backup --tenant ... --client-id ... --ci github    # with its pipelines
    entragit init --ci azure-devops                                  # pipelines for this repository
    """
    from entragit.config import CONFIG_FILE, Config, read_simulator_info, trust_remote_default
    from entragit.store import init_repo
    from entragit.textconv import install

    if ci_platform and not refresh and (directory / CONFIG_FILE).exists() and not (tenant_id or client_id or sim_info):
        _write_pipelines(_open(directory), ci_platform)
        return
    if refresh:
        repo = _open(directory)
        click.echo(f"git diff in {directory} now shows display names beside ids (diff driver updated)."
                   if install(repo.root) else f"git diff in {directory} already shows display names beside ids.")
        trusted = trust_remote_default(repo.git)
        click.echo(f"Guardrails loosen only by a commit on {trusted}." if trusted else
                   "No remote default branch is known: until ENTRAGIT_TRUSTED_REF or `git config entragit.trustedRef "
                   "REF` names the reviewed branch, guardrails are never looser than entragit's defaults.")
        return
    # Pipelines sign in with workload identity federation only: no secret to store.
    auth = auth or ("federated" if ci_platform else "secret")
    if sim_info is not None:
        info = read_simulator_info(str(sim_info))
        config = Config(tenant_id=info["tenant_id"], client_id=info["client_id"], simulator=str(sim_info.resolve()),
                        auth=auth)
    elif tenant_id and client_id:
        config = Config(tenant_id=tenant_id, client_id=client_id, cloud=cloud, auth=auth)
    else:
        raise click.UsageError("give --tenant and --client-id, or --sim FILE")
    repo = init_repo(directory, config)
    install(repo.root)
    click.echo(f"Created backup repository {directory} for tenant {config.tenant_id}; its guardrails loosen only "
               f"by a commit on {repo.git.git.symbolic_ref('HEAD')}.")
    if ci_platform:
        _write_pipelines(repo, ci_platform)
    else:
        ui.info(f"Next: entragit snapshot --repo {directory}", err=False)


def _write_pipelines(repo: Any, platform: str) -> None:
    from entragit.ci.templates import write_pipelines

    for line in write_pipelines(repo.root, platform):
        click.echo(line[0].upper() + line[1:] + ".")
    if repo.config.auth != "federated":
        click.echo(f"note: entragit.yaml has auth: {repo.config.auth}; the pipelines sign in with workload identity "
                   "federation only: set auth: federated", err=True)
    ui.info("Next: commit and push them, then set up the platform as the README's Pipelines section says.",
                err=False)


@cli.command()
@repo_option
@click.option("--type", "types", multiple=True, metavar="T", help="Only this object type (repeatable).")
@click.option("--accept-mass-change", is_flag=True,
              help="Commit to the current branch even if a large share of objects vanished.")
@click.option("--full", is_flag=True, help="Read every object, not only what changed since the last snapshot.")
def snapshot(repo_dir: Path, types: tuple[str, ...], accept_mass_change: bool, full: bool) -> None:
    """Read the tenant and commit it as one YAML file per object.

    Users, groups, applications, service principals and administrative units are read incrementally
    (Graph's delta queries) once a snapshot has been taken; --full reads everything again. An unchanged
    tenant gives byte-identical files and no new commit. A read that fails part-way commits nothing.
    A snapshot in which a large share of a type's objects vanished (a partial answer
    from Graph looks just like that) goes to a side branch entragit/suspect/<time> and the command
    exits 1, unless --accept-mass-change says the change is real.
    """
    from entragit.progress import Progress
    from entragit.snapshot import take_snapshot

    progress = Progress()
    result = take_snapshot(_open(repo_dir), types, progress, accept_mass_change=accept_mass_change, full=full)
    progress.done()
    for note in result.notes:
        ui.info(f"note: {printable(note)}")
    counts = ", ".join(f"{n} {name}" for name, n in result.counts.items())
    if result.suspicions:
        click.echo(click.style("Snapshot held back as suspect", fg="red", bold=True)
                   + f": committed to branch {result.branch}, not to the current branch.", err=True)
        for reason in result.suspicions:
            click.echo(f"  - {printable(reason)}", err=True)
        click.echo("If this change is real, take the snapshot again with --accept-mass-change.", err=True)
        sys.exit(1)
    if result.commit is None:
        click.echo(f"No changes since the last snapshot ({counts}); no commit made.")
    else:
        click.echo(f"Snapshot {result.commit[:10]}: {counts}; {result.changed_files} file(s) changed.")
    if result.skipped:
        # The rest is committed, but a pipeline must notice that the backup is not whole.
        raise EntragitError(f"{len(result.skipped)} type(s) not read, their files kept as they were: "
                            f"{', '.join(result.skipped)} (see the notes above)")


@cli.command()
@click.argument("rev_a", required=False)
@click.argument("rev_b", required=False)
@repo_option
@click.option("--live", is_flag=True, help="Compare REV_A (default: newest snapshot) with the tenant now.")
@click.option("--since", metavar="AGE",
              help="Compare the snapshot in force AGE ago (12h, 7d, 2w) with the newest one (or --live).")
@click.option("--at", "at", metavar="DATE",
              help="Compare the snapshot in force at DATE (2026-11-20, 2026-11-20T08:30; UTC unless a zone "
                   "is given) with the newest one (or --live).")
@click.option("--at-time", "at_time", metavar="TIME",
              help="Compare the state at TIME (2026-12-06T14:05Z), rebuilt from the nearest snapshot and the "
                   "directory audit log (needs AuditLog.Read.All), with the newest snapshot (or REV, or --live).")
@click.option("--type", "types", multiple=True, metavar="T", help="Only this object type (repeatable).")
@click.option("--id", "ids", multiple=True, metavar="ID", help="Only this object id (repeatable).")
@click.option("--attribute", "attributes", multiple=True, metavar="PATH",
              help="Only this attribute, relationship or dotted path and what lies under it, e.g. "
                   "conditions.users or members (repeatable).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--summary", is_flag=True, help="Only the counts per type and kind of change.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")
@click.option("--exit-code", is_flag=True, help="Exit 2 when there are differences, 0 when there are none.")
@click.option("--attribution/--no-attribution", default=True, show_default=True,
              help="Name who made each change, from the tenant's audit log (needs AuditLog.Read.All).")
def diff(rev_a: str | None, rev_b: str | None, repo_dir: Path, live: bool, since: str | None, at: str | None,
         at_time: str | None, types: tuple[str, ...], ids: tuple[str, ...], attributes: tuple[str, ...], fmt: str, summary: bool,
         output: Path | None, exit_code: bool, attribution: bool) -> None:
    """Attribute-level differences between two snapshots, or a snapshot and the live tenant.

    With no revision: the two newest snapshots, where a `git revert` of a snapshot takes the reverted
    snapshot's place. With one: that revision and the newest snapshot. The header names both commits.
    The formats: table (terminal), markdown (pull request comment, CI job summary), json (the
    documented schema entragit/diff/2), html (one self-contained page).

    \b
    entragit diff                       # yesterday's snapshot vs today's
    entragit diff --since 7d --format markdown -o drift.md
    entragit diff HEAD --live --exit-code
    entragit diff --at 2026-11-20 --attribute conditions.users --type conditionalAccessPolicies
    entragit diff --at-time 2026-12-06T14:05Z --type conditionalAccessPolicies
    """
    from entragit.diff.build import make_report
    from entragit.progress import Progress
    from entragit.report.formats import render
    from entragit.selection import Selection

    progress = Progress()
    selection = Selection(types=types, ids=ids, attributes=attributes)
    if at_time is not None:
        from entragit.pointintime import report_at_time

        if since or at or rev_b:
            raise click.UsageError("--at-time names the older side: give no --since, --at or second revision")
        report = report_at_time(_open(repo_dir), at_time, rev_a, live=live, selection=selection, progress=progress,
                                attribution=attribution)
    else:
        report = make_report(_open(repo_dir), rev_a, rev_b, live=live, selection=selection, since=since, at=at,
                             progress=progress, attribution=attribution)
    progress.done()
    text = render(report, fmt, summary)
    if output:
        output.write_text(click.unstyle(text) + "\n", encoding="utf-8")
        ui.info(f"Wrote {output}.")
    else:
        click.echo(text)
    if exit_code and not report.empty:
        sys.exit(2)


@cli.command()
@repo_option
@click.option("--break-glass", "break_glass", multiple=True, metavar="UPN|ID",
              help="An emergency account (repeatable); default: break_glass in entragit.yaml.")
@click.option("--warn-after", type=float, default=26, show_default=True, metavar="HOURS",
              help="Warn when the newest snapshot is older than this.")
@click.option("--fail-after", type=float, default=50, show_default=True, metavar="HOURS",
              help="Fail when the newest snapshot is older than this.")
@click.option("--format", "fmt", type=click.Choice(("table", "markdown", "json")), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the page here.")
def posture(repo_dir: Path, break_glass: tuple[str, ...], warn_after: float, fail_after: float, fmt: str,
            output: Path | None) -> None:
    """Whether the tenant can be brought back, one page: soft delete usable, the recycle bin's purge
    protected by Conditional Access, backups fresh, break-glass accounts excluded from blocking policies.

    Reads the live tenant (as `diff --live`) and the repository. Each pillar passes, warns or fails with
    the figures behind it. Exit code: 0 when every pillar passes, 1 when one fails, 3 when some only warn.
    """
    from entragit.connect import graph_client
    from entragit.posture import PostureOptions, assess
    from entragit.report.posture import render_posture

    repo = _open(repo_dir)
    options = PostureOptions(break_glass=break_glass, warn_after_hours=warn_after, fail_after_hours=fail_after)
    found = assess(repo, graph_client(repo.config.connection()), options)
    text = render_posture(found, fmt)
    if output:
        output.write_text(text, encoding="utf-8")
        ui.info(f"Wrote {output}.")
    else:
        click.echo(text, nl=False)
    sys.exit(found.exit_code)


@cli.command(hidden=True)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def textconv(path: Path) -> None:
    """Print a snapshot file with display names beside ids: the diff driver of repositories set up before
    `entragit-textconv` (`entragit init --refresh` moves them to it)."""
    from entragit.textconv.__main__ import main as driver

    driver([str(path)])


@cli.command()
@click.argument("object_id")
@repo_option
@click.option("-n", "--max-count", type=int, help="Only the newest N changes.")
def log(object_id: str, repo_dir: Path, max_count: int | None) -> None:
    """The snapshots in which OBJECT_ID changed, newest first, each with what changed, and what other
    objects did about it (group memberships, role assignments, policy exclusions).

    \b
    entragit log 5f1c3a2e-...            # who blanked this user's department, and when
    """
    from entragit.history import object_history
    from entragit.report.table import render_history

    click.echo(render_history(object_history(_open(repo_dir), object_id, max_count), object_id))


@cli.command()
@click.argument("rev", required=False)
@repo_option
@click.option("-o", "--output", "folder", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The folder to write the book into (made if missing; its pages are overwritten).")
def docs(rev: str | None, repo_dir: Path, folder: Path) -> None:
    """Write a book of the tenant's configuration at REV (default: the newest snapshot), in markdown and
    HTML: each Conditional Access policy in words, the role holders, app credentials by expiry and what
    targets each user and group. Names, not ids; the same snapshot gives the same files, to commit and diff.

    \b
    entragit docs -o book                # then open book/index.html
    entragit docs HEAD~7 -o book-last-week
    """
    from entragit.book import write_book

    written = write_book(_open(repo_dir), rev, folder)
    ui.info(f"Wrote {len(written) // 2} page(s) as markdown and HTML to {printable(str(folder))}; "
            f"start at {printable(str(folder / 'index.html'))}.")

def _write_options(command: Any) -> Any:
    """Options every command that writes to the tenant takes: restore and apply write alike, so a plan
    that tells the user to pass one of them is right whichever command made it."""
    for option in reversed([
        click.option("--delete-extra", is_flag=True,
                     help="Also delete objects the revision does not have (never users): restore, those of "
                          "the --type(s); apply, those whose files REV deleted."),
        click.option("--remove-new-credentials", is_flag=True,
                     help="Remove app and service principal secrets added since the revision."),
        click.option("--no-follow-references", "follow_references", is_flag=True, flag_value=False, default=True,
                     help="Leave live references to an object made again under a new id (a CA policy "
                          "excluding a recreated group) as they are; by default they are rewritten to the new id."),
        click.option("--paths", "paths", multiple=True, metavar="PATHSPEC",
                     help="Only objects whose files match, e.g. groups/<id>.yaml or conditionalAccessPolicies/ "
                          "(repeatable; * and ? match too)."),
        click.option("--plan", "plan_only", is_flag=True, help="Show the plan and write nothing."),
        click.option("--rehearse", is_flag=True,
                     help="Show the plan, run it in a simulated tenant loaded with the objects it touches, and "
                          "write nothing to the tenant; exit code 3 when a step is refused or a difference remains."),
        click.option("--format", "fmt", type=click.Choice(("table", "markdown", "json")), default="table",
                     show_default=True,
                     help="With --plan: markdown (a pull request comment) or json (the saved plan's schema)."),
        click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                     help="With --plan: save the plan here, to apply later with entragit apply --plan-file."),
        click.option("--max-writes", type=click.IntRange(min=0), metavar="N",
                     help="Allow up to N writes in this run (default: restore.max_writes in entragit.yaml, 500)."),
        click.option("--yes", is_flag=True, help="Write without asking."),
        click.option("--accept-risk", is_flag=True,
                     help="Also write the plan's high-risk writes (marked in the plan), e.g. a Conditional Access "
                          "policy disabled or a privileged role granted; never set it by default in CI."),
    ]):
        command = option(command)
    return command


def _check_write_options(plan_only: bool, yes: bool, output: Path | None, fmt: str, rehearse: bool = False) -> None:
    if rehearse and (plan_only or yes):
        raise click.UsageError("--rehearse writes nothing: give it without --plan and --yes")
    if plan_only and yes:
        raise click.UsageError("--plan and --yes contradict each other")
    if output is not None and not plan_only:
        raise click.UsageError("-o/--output saves a plan: use it with --plan")
    if fmt != "table" and not plan_only:
        raise click.UsageError(f"--format {fmt} shows a plan: use it with --plan")


def _rehearse(repo: Any, client: Any, prepared: Any) -> None:
    """Show the plan, rehearse it, and stop before anything is written to the tenant."""
    from entragit.progress import Progress
    from entragit.report.plan import render_plan, render_rehearsal
    from entragit.restore.model import EXIT_REHEARSAL_FAILED
    from entragit.restore.rehearse import rehearse

    click.echo(render_plan(prepared.pending))
    progress = Progress()
    progress.update("rehearsing in a simulated tenant")
    rehearsal = rehearse(repo, client, prepared)
    progress.done()
    click.echo(render_rehearsal(rehearsal, repo.config.tenant_id))
    if not rehearsal.clean:
        sys.exit(EXIT_REHEARSAL_FAILED)


def _render_plan(repo: Any, plan: Any, fmt: str) -> str:
    import json

    from entragit.report.plan import render_plan, render_plan_markdown
    from entragit.restore import dump_plan

    if fmt == "json":
        return json.dumps(dump_plan(plan, repo.config.tenant_id), indent=1)
    return str(render_plan_markdown(plan) if fmt == "markdown" else render_plan(plan))


def _run_prepared(repo: Any, client: Any, prepared: Any, plan_only: bool, yes: bool, output: Path | None,
                  fmt: str = "table", accept_risk: bool = False) -> None:
    """Show the plan, save it, ask, write, verify: the same for restore and apply."""
    from entragit.progress import Progress
    from entragit.report.plan import render_result, render_run
    from entragit.restore import check_risks, execute, save_plan

    # Only the plan goes to stdout in markdown or json: it is piped into a comment or a file.
    aside = fmt != "table"
    if prepared.resumed is not None:
        click.echo(f"Resuming an interrupted run of this command: {len(prepared.skip)} of "
                   f"{len(prepared.plan.steps)} write(s) are already done.", err=aside)
        for old_id, new_id in prepared.resumed.created.items():
            click.echo(printable(f"  it created {new_id} in place of {old_id}"), err=aside)
    click.echo(_render_plan(repo, prepared.pending, fmt))
    if output is not None:
        save_plan(prepared.plan, output, repo.config.tenant_id)
        click.echo(f"Saved the plan to {output}; apply it with: entragit apply --plan-file {output}", err=aside)
    for refusal in prepared.refusals:
        click.echo(click.style("Refused: ", fg="red", bold=True) + printable(refusal), err=True)
    for note in prepared.notes:
        ui.info(printable(f"note: {note}"))
    if plan_only or (not prepared.pending.steps and prepared.resumed is None):
        return
    if prepared.refusals:
        raise EntragitError("nothing written: the plan is refused (see above)")
    check_risks(prepared, accept_risk)
    if not yes and prepared.pending.steps:
        if not sys.stdin.isatty():
            raise EntragitError("nothing written: confirm with --yes (there is no terminal to ask on)")
        risky = sum(1 for step in prepared.pending.steps if any(f.severity == "high" for f in step.risks))
        click.confirm(printable(f"Write these {len(prepared.pending.steps)} change(s)"
                                + (f", {risky} of them high-risk," if risky else "")
                                + f" to tenant {repo.config.tenant_id}?"), abort=True)
    progress = Progress()
    run = execute(repo, client, prepared, lambda done, total: progress.update(f"writing {done}/{total}"),
                  accept_risk=accept_risk)
    progress.done()
    click.echo(render_run(run))
    click.echo(render_result(run.result))
    if run.result.failed or run.result.residue.steps:
        sys.exit(1)


@cli.command()
@repo_option
@click.option("--at", "at", metavar="REV", help="The snapshot (any git revision) to restore from.")
@click.option("--at-time", "at_time", metavar="TIME",
              help="Restore the state at TIME (2026-12-06T14:05Z), rebuilt from the nearest snapshot and the "
                   "directory audit log (needs AuditLog.Read.All); what the log cannot say is left as it is live.")
@click.option("--type", "types", multiple=True, metavar="T", help="Restore every object of this type (repeatable).")
@click.option("--id", "ids", multiple=True, metavar="ID", help="Restore this object (repeatable).")
@click.option("--attribute", "attributes", multiple=True, metavar="A",
              help="Only this attribute or dotted path, e.g. jobTitle or members (repeatable).")
@_write_options
def restore(repo_dir: Path, at: str | None, at_time: str | None, types: tuple[str, ...], ids: tuple[str, ...], attributes: tuple[str, ...],
            delete_extra: bool, remove_new_credentials: bool, follow_references: bool, paths: tuple[str, ...],
            plan_only: bool, rehearse: bool, fmt: str, output: Path | None, max_writes: int | None, yes: bool,
            accept_risk: bool) -> None:
    """Put objects back as the snapshot at REV has them (or as they were at TIME), then verify.

    Reads the files at REV and the live objects, shows the writes that would make them match
    (property PATCHes, member and owner links; restoring a user restores its group memberships;
    deleted objects come back from the recycle bin, or are created again under a new id, which every
    reference follows, in the plan and in live objects outside it), writes only after --yes or a
    confirmation (and --accept-risk for a plan with high-risk writes), then re-reads and reports any
    residue. What cannot be restored is listed, with the reason. Before writing, the tenant is
    snapshotted to a branch entragit/before-restore/<time>: restoring from it undoes the run. An
    interrupted run resumes when the same command is run again. With --at-time, the state at TIME is
    rebuilt from the audit log onto refs/entragit/at/<time>; values the log cannot say stay as they are.

    \b
    entragit restore --at HEAD~1 --type conditionalAccessPolicies --plan
    entragit restore --at 3f2a9c1 --id 5f1c... --id 77ab... --attribute jobTitle --yes
    entragit restore --at HEAD~3 --paths groups/ --plan -o plan.json
    entragit restore --at HEAD~1 --type groups --rehearse
    entragit restore --at-time 2026-12-06T14:05Z --type conditionalAccessPolicies --plan
    """
    from entragit.connect import graph_client
    from entragit.restore import Request, RestoreOptions, prepare
    from entragit.selection import Selection

    _check_write_options(plan_only, yes, output, fmt, rehearse)
    if (at is None) == (at_time is None):
        raise click.UsageError("give one of --at REV and --at-time TIME")
    repo = _open(repo_dir)
    client = graph_client(repo.config.connection())
    selection = Selection(types, ids, attributes, paths)
    notes: list[str] = []
    if at_time is not None:
        from entragit.pointintime import restore_point

        point = restore_point(repo, client, at_time, selection)
        at, notes = point.rev, point.notes
    assert at is not None
    request = Request("restore", at, selection,
                      RestoreOptions(delete_extra=delete_extra, remove_new_credentials=remove_new_credentials,
                                     follow_references=follow_references), max_writes=max_writes)
    prepared = prepare(repo, client, request)
    prepared.notes[:0] = notes
    if rehearse:
        _rehearse(repo, client, prepared)
        return
    _run_prepared(repo, client, prepared, plan_only, yes, output, fmt, accept_risk)


@cli.command(name="apply")
@click.argument("rev", required=False)
@repo_option
@click.option("--plan-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Apply exactly this saved plan, if the objects it was made against have not changed since.")
@_write_options
def apply_command(rev: str | None, repo_dir: Path, plan_file: Path | None, delete_extra: bool,
                  remove_new_credentials: bool, follow_references: bool, paths: tuple[str, ...], plan_only: bool,
                  fmt: str, output: Path | None, max_writes: int | None, yes: bool, accept_risk: bool,
                  rehearse: bool = False) -> None:
    """Make the tenant match the files that commit REV (default HEAD) changed.

    The objects whose files REV changed against its first parent are put back as REV has them, so after
    `git revert <bad snapshot>` this undoes the bad change in the tenant. A file REV deleted is listed
    (its object is deleted only with --delete-extra), and so is a secret added since (removed only with
    --remove-new-credentials). Writes only after --yes or a confirmation (and --accept-risk for a plan
    with high-risk writes), then verifies.

    \b
    git revert --no-edit 3f2a9c1 && entragit apply --plan
    entragit apply HEAD --paths conditionalAccessPolicies/ --yes
    entragit apply --plan-file plan.json --yes
    entragit apply --rehearse
    """
    from entragit.connect import graph_client
    from entragit.restore import Request, RestoreOptions, prepare
    from entragit.selection import Selection

    _check_write_options(plan_only, yes, output, fmt, rehearse)
    options = RestoreOptions(delete_extra=delete_extra, remove_new_credentials=remove_new_credentials,
                             follow_references=follow_references)
    if plan_file is not None and (rev is not None or paths or options != RestoreOptions()):
        raise click.UsageError("--plan-file applies the saved plan as it is: give no REV, --paths or options "
                               "that change the plan")
    repo = _open(repo_dir)
    client = graph_client(repo.config.connection())
    request = Request("apply", rev or "HEAD", Selection(paths=paths), options, plan_file=plan_file,
                      max_writes=max_writes)
    prepared = prepare(repo, client, request)
    if rehearse:
        _rehearse(repo, client, prepared)
        return
    _run_prepared(repo, client, prepared, plan_only, yes, output, fmt, accept_risk)


@cli.command(name="import-native")
@repo_option
@click.option("--branch", default="entragit/native", show_default=True, help="The branch the backups are written to.")
def import_native_command(repo_dir: Path, branch: str) -> None:
    """Write Microsoft Entra Backup and Recovery's daily backups (the last 5 to 7 days) as commits.

    Signs in as a person (a device code to enter in a browser): Microsoft lets only a person holding the
    Entra Backup Administrator role start the preview jobs this reads. One job per backup, oldest first,
    one at a time; each takes an hour or more. Each backup becomes one commit on BRANCH, dated at the
    backup: the newest snapshot's files with the backup's values of the properties the service covers
    (the commit's trailers list them).
    """
    from entragit.auth import PersonSignIn
    from entragit.graph import GraphClient
    from entragit.native import NOT_A_PERSON, PERMISSIONS, POLL_SECONDS, Progress, import_native

    repo = _open(repo_dir)
    connection = repo.config.connection()
    if connection.auth in ("federated", "managed-identity"):
        # No person is at a pipeline's or a machine's identity to enter a device code.
        raise EntragitError(f"{NOT_A_PERSON}; this repository signs in as '{connection.auth}': run "
                            "import-native at a terminal")
    tokens = PersonSignIn(connection, PERMISSIONS, lambda message: click.echo(printable(message), err=True))
    client = GraphClient(connection.graph_url, tokens.token, invalidate_token=tokens.invalidate,
                         ca_bundle=connection.ca_bundle)

    def report(progress: Progress) -> None:
        ui.info(printable(f"backup {progress.point.time}: {progress.status}"))

    def wait() -> None:
        time.sleep(POLL_SECONDS * connection.pace_scale)

    imported = import_native(repo, client, branch, wait, report)
    for item in imported:
        click.echo(f"{printable(item.point.time)}: {item.commit[:10]} ({item.changes} object(s) differed from today"
                   + (f", {item.skipped} of types not kept" if item.skipped else "") + ")")
    click.echo(f"{len(imported)} native backup(s) written to branch {branch}.")


@cli.command(name="prune")
@repo_option
@click.option("--keep-daily", type=int, default=30, show_default=True, help="Keep the newest snapshot of each of the last N days.")
@click.option("--keep-monthly", type=int, default=12, show_default=True, help="Keep the newest snapshot of each of the last M months.")
@click.option("--yes", is_flag=True, help="Rewrite the history; without it, only show what would go.")
def prune_command(repo_dir: Path, keep_daily: int, keep_monthly: int, yes: bool) -> None:
    """Keep fewer snapshots. This REWRITES the branch's history (like a rebase).

    Only for repositories that must not keep identity data indefinitely: by default entragit keeps every
    snapshot, since git's history is the retention. Clones and remotes keep the old history until they
    are updated (a force-push is needed).
    """
    from entragit.prune import plan_prune, prune

    repo = _open(repo_dir)
    try:
        plan = plan_prune(repo, keep_daily, keep_monthly)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"{len(plan.drop)} snapshot(s) would go, {len(plan.keep)} commit(s) stay.")
    if not plan.drop or not yes:
        if plan.drop:
            click.echo("Nothing rewritten: run again with --yes to prune.")
        return
    head = prune(repo, plan)
    click.echo(f"History rewritten: the branch now ends at {head[:10]} (same files as before).")


@cli.command()
@click.option("--properties", "of_type", metavar="TYPE",
              help="What entragit keeps of each property Graph declares for TYPE, and why.")
@click.option("--permissions", is_flag=True,
              help="Only the application permissions to grant: the snapshot app's, then the restore app's.")
def types(of_type: str | None, permissions: bool) -> None:
    """List the object types entragit backs up, the Graph permissions each needs, and how a deleted one comes back.

    The table fits the terminal (or COLUMNS): the columns least needed go first, then the widest wraps.
    """
    from entragit.attribution import AUDIT_PERMISSION
    from entragit.registry import get_type, resolve_types
    from entragit.registry.beta import BETA

    if of_type is not None:
        from entragit.registry.decisions import rows

        ui.echo_table(("PROPERTY", "DECISION", "WHY"), rows(get_type(of_type)))
        return
    known = resolve_types(())
    if permissions:
        click.echo("The snapshot app (read only), application permissions with admin consent:")
        for permission in sorted({t.read_permission for t in known}):
            click.echo(f"  {permission}")
        click.echo(f"  {AUDIT_PERMISSION}  (optional: names who made each change in `entragit diff`)")
        click.echo("\nThe restore app: the read permissions above (a restore reads first), and")
        for permission in sorted({p for t in known for p in t.write_permissions}):
            click.echo(f"  {permission}")
        for t in known:
            if t.also_needs:
                click.echo(printable(f"  for some {t.name}, Graph also asks for {t.also_needs}"))
        return
    ui.echo_table(("TYPE", "VERSION", "GRAPH PATH", "TO READ", "TO RESTORE", "IF CHANGED", "IF DELETED"),
                  [(t.name + (" (beta)" if t.api_version == BETA else ""), t.api_version, t.collection,
                    t.read_permission, ", ".join(t.write_permissions), t.if_changed, t.if_deleted) for t in known],
                  droppable=("VERSION", "GRAPH PATH", "IF CHANGED", "IF DELETED"), whole=("TYPE",))
    if any(t.api_version == BETA for t in known):
        ui.info("\n(beta): read and written through Graph's beta API, which Microsoft may change without notice.",
                err=False)
    ui.info("\nWhy a restore does not make or delete some:", err=False)
    for t in known:
        if t.why_not:
            ui.info(click.wrap_text(printable(f"{t.name}: {t.why_not}"), ui.table_width() or 10**6,
                                    initial_indent="  ", subsequent_indent="    "), err=False)
    ui.info(f"\nTo name who made each change in `entragit diff`: {AUDIT_PERMISSION} (optional).", err=False)
    ui.info("What is kept of each type's properties: entragit types --properties TYPE.", err=False)
    ui.info("The permissions to grant, without repeats: entragit types --permissions.", err=False)


@cli.command()
@repo_option
@click.option("--write", is_flag=True,
              help="Also check each restore permission (run it as the restore app: ENTRAGIT_CLIENT_ID).")
def doctor(repo_dir: Path, write: bool) -> None:
    """Check what the backup repository needs, one line each, with what fixes what is missing.

    \b
    entragit.yaml; where the connection comes from; the sign-in and its tenant; each type's read
    permission, asked of Graph (and, with --write, each restore permission); the git remote, its
    default branch and the trusted ref; the pipeline files. Exits 1 when something is missing.
    Writes nothing anywhere.
    """
    from entragit.doctor import MISSING, diagnose

    missing = 0
    for finding in diagnose(repo_dir, write):
        missing += finding.status == MISSING
        status = click.style(f"{finding.status:<8}", fg="red" if finding.status == MISSING else None)
        click.echo(f"{status} {printable(finding.check)}: {printable(finding.detail)}")
    if missing:
        raise EntragitError(f"{missing} check(s) found something missing (see above)")


@cli.command()
@click.argument("tenants_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--matrix", "platform", type=click.Choice(["github", "azure-devops"]), required=True,
              help="Print the tenants as this platform's pipeline matrix takes them (JSON, one line).")
def tenants(tenants_file: Path, platform: str) -> None:
    """Check a service provider's list of tenants (tenants.yaml) and print it as a pipeline matrix.

    \b
    tenants:
      - name: contoso
        repository: provider/entra-backup-contoso
        client_id: 00000000-0000-0000-0000-000000000000   # optional
    """
    from entragit.tenants import matrix, read_tenants

    click.echo(matrix(read_tenants(tenants_file), platform))


@cli.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Where to put the demo's backup repository (default: a new temporary folder).")
@click.option("--seed", default=42, show_default=True, help="Seed of the simulated tenant.")
@click.option("--realistic", is_flag=True,
              help="Give the simulated tenant Graph's throttling and a network's latency.")
def demo(directory: Path | None, seed: int, realistic: bool) -> None:
    """The whole story on a simulated tenant: snapshot, a bad bulk change, the report, the restore."""
    from entragit.demo import run_demo

    run_demo(directory, seed, click.echo, realistic=realistic)


@cli.group()
def sim() -> None:
    """The simulated tenant: Microsoft Graph v1.0 and beta, and a token endpoint over HTTPS on loopback."""


@sim.command("serve")
@click.option("--port", default=0, show_default=True, help="Port to listen on (0: any free port).")
@click.option("--seed", default=42, show_default=True, help="Seed of the generated tenant.")
@click.option("--size", type=click.Choice(["small", "medium", "large"]), default="small", show_default=True,
              help="small: ~200 users (the demo); medium: ~5,000; large: ~100,000 users and 20,000 groups.")
@click.option("--info", "info_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Write the connection details (URLs, ids, secret, CA) here as JSON once listening.")
@click.option("--realistic", is_flag=True, help="Throttling and latency as a real tenant has them.")
@click.option("--time-scale", type=float, default=1.0, show_default=True,
              help="Real seconds per simulated second: 0.01 runs quota windows and delays 100 times faster.")
@click.option("--set", "switches", multiple=True, metavar="NAME=VALUE",
              help="Set a switch, e.g. fault_status=429 or delta_token_lifetime_days=1 (see entragit/sim/settings.py).")
def sim_serve(port: int, seed: int, size: str, info_path: Path, realistic: bool, time_scale: float,
              switches: tuple[str, ...]) -> None:
    """Run a simulated tenant until interrupted.

    \b
    entragit sim serve --info sim.json &
    entragit init backup --sim sim.json && entragit snapshot --repo backup
    entragit sim serve --info sim.json --set fault_status=503 --set fault_probability=0.1
    """
    from entragit.sim import serve
    from entragit.sim.settings import Settings

    settings = Settings.realistic(time_scale) if realistic else Settings(time_scale=time_scale)
    for switch in switches:
        try:
            settings.apply(switch)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--set") from None
    serve(port=port, seed=seed, size=size, info_path=str(info_path), settings=settings)


@cli.group()
def ci() -> None:
    """The steps of the pipelines `entragit init --ci` writes; each runs inside a pipeline job."""


platform_option = click.option("--platform", "platform", required=True, type=click.Choice(["github", "azure-devops"]),
                               help="The pipeline platform running this step.")


@ci.command("snapshot")
@platform_option
def ci_snapshot(platform: str) -> None:
    """Take the scheduled snapshot and report its drift: as one pull request from drift/<date>, or (ci: {drift:
    commit} in entragit.yaml) as a commit on this branch and the job's summary. A snapshot held back as
    suspect becomes a draft pull request, and the step fails."""
    import os

    from entragit.ci.drift import run_snapshot
    from entragit.ci.job import Job

    run_snapshot(Job(platform, os.environ, Path(".")), lambda line: click.echo(printable(line)))


@ci.command("plan")
@platform_option
def ci_plan(platform: str) -> None:
    """Plan what the checked-out change writes to the tenant (entragit apply --plan): on a pull request, as one
    comment that later runs replace; after a merge, in the job's summary, with the count of writes as the
    step's output `writes`."""
    import os

    from entragit.ci.job import Job
    from entragit.ci.restore import run_plan

    run_plan(Job(platform, os.environ, Path(".")), lambda line: click.echo(printable(line)))


@ci.command("rehearse")
@platform_option
def ci_rehearse(platform: str) -> None:
    """Rehearse what the checked-out change writes (entragit apply --rehearse) in a simulated tenant, granted the
    restore app's permissions (ENTRAGIT_WRITER_ROLES): on a pull request, as one comment that later runs
    replace; the step fails when a write is refused or a difference would remain."""
    import os

    from entragit.ci.job import Job
    from entragit.ci.restore import run_rehearsal

    run_rehearsal(Job(platform, os.environ, Path(".")), lambda line: click.echo(printable(line)))


@ci.command("apply")
@platform_option
@click.option("--accept-risk", is_flag=True, help="Also write high-risk writes: only from a run a person asked for.")
@click.pass_context
def ci_apply(ctx: click.Context, platform: str, accept_risk: bool) -> None:
    """entragit apply --yes of the merged commit, signed in as the restore app (ENTRAGIT_CLIENT_ID, never the
    snapshots' reader); the snapshot taken before writing is pushed, to undo the run from."""
    import os

    from entragit.ci.restore import apply_job, keep_before_restore

    job = apply_job(platform, os.environ, Path("."))
    try:
        ctx.invoke(apply_command, rev=None, repo_dir=Path("."), plan_file=None, paths=(), plan_only=False,
                   fmt="table", output=None, max_writes=None, yes=True, accept_risk=accept_risk)
    finally:
        for line in keep_before_restore(job):
            click.echo(line)


def main() -> None:
    cli()
