"""`flask notifications …`: build daily digests and deliver the e-mail outbox."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from civic.extensions import db

notifications_cli = AppGroup("notifications", help="邮件通知。")


def run_digest() -> None:
    from civic.notifications.outbox import build_digests
    queued = build_digests()
    db.session.commit()
    click.echo(f"digests queued: {queued}")


def run_send() -> None:
    from civic.notifications.outbox import pending_count, send_due
    report = send_due()
    if report is None:
        click.echo(f"SMTP 未配置（未设置 SMTP_HOST），{pending_count()} 封邮件留在发件箱待发。")
        db.session.rollback()
        return
    click.echo(f"mails sent: {report.sent}, to retry: {report.retrying}, "
               f"given up: {report.gave_up}")
    if report.stopped:
        click.echo(f"SMTP 服务器不可用，本轮停止：{report.stopped}", err=True)


@notifications_cli.command("digest")
def digest() -> None:
    """Queue the daily digest for users who chose it and have something new."""
    run_digest()


@notifications_cli.command("send")
def send() -> None:
    """Send pending e-mails that are due (retries with backoff; safe to run often)."""
    run_send()
