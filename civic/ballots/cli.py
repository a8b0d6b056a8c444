"""`flask ballots recount FILE`: anyone can recount a published ballot file."""
from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

ballots_cli = AppGroup("ballots", help="业主表决。")


@ballots_cli.command("recount")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
def recount_command(file) -> None:
    """Recount a published ballot file (JSON; FILE may be - for standard input) with the
    same counting function the app uses, and print the result as JSON."""
    from civic.ballots.ballotfile import BallotFileError, recount
    try:
        summary = recount(file.read())
    except BallotFileError as e:
        click.echo(f"无法计票：{e}", err=True)
        sys.exit(2)
    except UnicodeDecodeError:
        click.echo("无法计票：文件不是 UTF-8 编码。", err=True)
        sys.exit(2)
    click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
