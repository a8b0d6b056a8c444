"""`flask` commands: admin, demo data, audit chain, time-based jobs, backups."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from civic.extensions import db

admin_cli = AppGroup("admin", help="平台管理员账号。")
audit_cli = AppGroup("audit", help="审计日志。")
demo_cli = AppGroup("demo", help="演示数据。")
jobs_cli = AppGroup("jobs", help="定时任务。")
backup_cli = AppGroup("backup", help="备份与恢复（数据库和上传的文件）。")
bench_cli = AppGroup("bench", help="性能测试数据。")


@admin_cli.command("create")
@click.option("--phone", prompt=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", default="平台管理员")
def create_admin(phone: str, password: str, name: str) -> None:
    """Create a site admin, or make an existing account one."""
    from civic.accounts import operations as ops
    from civic.accounts.models import User
    from civic.audit import operations as audit
    number = ops.normalise_phone(phone)
    if number is None:
        raise click.BadParameter("请输入有效的中国大陆手机号。", param_hint="--phone")
    user = db.session.execute(select(User).where(User.phone == number)).scalar_one_or_none()
    if user is None:
        problem = ops.password_problem(password, number)
        if problem:
            raise click.BadParameter(problem, param_hint="--password")
        user = User(phone=number, password_hash=ops.hash_password(password), display_name=name)
        db.session.add(user)
    user.is_admin = True
    user.rotate_session()
    db.session.flush()
    audit.record("admin.grant", user, actor="system", grantee=user.pseudonym)
    db.session.commit()
    click.echo(f"平台管理员已就绪：{user.pseudonym}")


@audit_cli.command("verify")
def verify() -> None:
    """Recompute the hash chain from the first event; exit 1 if it is broken."""
    from civic.audit.operations import verify_chain
    report = verify_chain()
    if report.ok:
        click.echo(f"OK {report.count} events, head {report.head}")
    else:
        click.echo(f"BROKEN at seq {report.broken_at}: {report.reason} "
                   f"({report.count} events verified before it)", err=True)
        raise SystemExit(1)


@audit_cli.command("head")
def head() -> None:
    """Print the current head hash, to keep and compare later."""
    from civic.audit.operations import head_hash
    click.echo(head_hash())


@demo_cli.command("load")
@click.option("--slug", default="huayuan", show_default=True)
def demo_load(slug: str) -> None:
    """Load a demo community with every role (idempotent: does nothing if it exists)."""
    from civic.demo import load
    click.echo(load(slug))


@jobs_cli.command("run")
def jobs_run() -> None:
    """Time-based work: expire issues past their collecting window, remind about time
    limits about to be (or already) missed, remind seats and close rounds at their
    deadline, let decisions whose publicity period ended take effect, close rating windows
    (reopening for review what most households rated 不满意). Safe to run often."""
    from civic.issues.operations import expire_due
    from civic.triage.operations import flag_clocks
    expired = expire_due()
    db.session.commit()
    click.echo(f"expired issues: {expired}")
    reminders = flag_clocks()
    db.session.commit()
    click.echo(f"time-limit reminders: {reminders}")
    from civic.consultation.operations import close_due_rounds, remind_closing_rounds
    from civic.decisions.operations import take_effect_due
    reminded = remind_closing_rounds()
    db.session.commit()
    click.echo(f"rounds closing within 24 hours: {reminded}")
    closed = close_due_rounds()
    db.session.commit()
    click.echo(f"rounds closed at their deadline: {closed}")
    effective = take_effect_due()
    db.session.commit()
    click.echo(f"decisions taking effect: {effective}")
    from civic.implementation.ratings import close_due as close_ratings
    rated, reviewed = close_ratings()
    db.session.commit()
    click.echo(f"rating windows closed: {rated}, reopened for review: {reviewed}")
    from civic.ballots.operations import run_due
    ballots = run_due()
    db.session.commit()
    click.echo("owners' ballots opened: {opened}, counted: {counted}, final: {final}"
               .format(**ballots))
    # Last, so that mails about what the steps above notified go out in this run.
    from civic.notifications.cli import run_digest, run_send
    run_digest()
    run_send()


@backup_cli.command("create")
@click.argument("dest", required=False, type=click.Path(file_okay=False))
def backup_create(dest: str | None) -> None:
    """Back up the database and the uploaded files into a new directory under DEST
    (default: instance/backups); print its path."""
    from pathlib import Path

    from flask import current_app

    from civic import backup
    out = backup.create(Path(dest) if dest else Path(current_app.instance_path) / "backups")
    click.echo(str(out))


@backup_cli.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False))
def backup_restore(src: str) -> None:
    """Restore the backup in SRC into the configured database, which must be empty (run no
    migration first), and check the audit chain and every table's row count; exit 1 if
    anything differs, 2 if it cannot restore."""
    from pathlib import Path

    from civic import backup
    try:
        result = backup.restore(Path(src))
    except backup.BackupError as e:
        click.echo(f"无法恢复：{e}", err=True)
        raise SystemExit(2) from None
    if not result.ok:
        for problem in result.problems:
            click.echo(problem, err=True)
        if not result.chain_ok:
            click.echo("审计链核验失败。", err=True)
        raise SystemExit(1)
    click.echo(f"已恢复，审计链核验一致，链头 {result.head}")


@bench_cli.command("generate")
@click.option("--scale", type=float, default=1.0, show_default=True,
              help="1.0 = 50 个小区、10 万户、2 万议题、100 万联署、5000 项决议、5 万笔支出。")
@click.option("--seed", type=int, default=1, show_default=True)
def bench_generate(scale: float, seed: int) -> None:
    """Fill an empty (migrated) database with city-sized benchmark data in bulk; every
    account's password is civic-bench-2026. Refuses a database that has communities."""
    from civic.benchdata import BENCH_PASSWORD, NotEmpty, generate
    if scale <= 0:
        raise click.BadParameter("须大于 0。", param_hint="--scale")
    try:
        counts = generate(scale, seed, echo=click.echo)
    except NotEmpty:
        click.echo("数据库里已有小区：请在新建并迁移好的空数据库上生成。", err=True)
        raise SystemExit(2) from None
    click.echo(f"{'table':22} {'rows':>10} {'seconds':>8}")
    for table, (n, seconds) in counts.items():
        click.echo(f"{table:22} {n:>10} {seconds:>8.1f}")
    click.echo(f"password of every generated account: {BENCH_PASSWORD}")


def init_app(app: Flask) -> None:
    from civic.ballots.cli import ballots_cli
    from civic.notifications.cli import notifications_cli
    from civic.roster.cli import roster_cli
    for group in (admin_cli, audit_cli, demo_cli, jobs_cli, roster_cli, notifications_cli,
                  ballots_cli, backup_cli, bench_cli):
        app.cli.add_command(group)
