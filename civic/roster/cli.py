"""`flask roster import --community SLUG FILE`: the roster import for committees' IT helpers."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from civic.extensions import db

roster_cli = AppGroup("roster", help="房屋名册。")


@roster_cli.command("import")
@click.option("--community", "slug", required=True, help="小区网址标识（/c/<标识>/）。")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(slug: str, file: Path) -> None:
    """Import a roster sheet (CSV/XLSX); print every problem and exit 1 if any row is bad."""
    from civic.communities.models import Community
    from civic.roster.operations import import_roster
    from civic.roster.parse import RosterInvalid, parse_roster

    community = db.session.execute(
        select(Community).where(Community.slug == slug)).scalar_one_or_none()
    if community is None:
        raise click.ClickException(f"找不到小区“{slug}”。")
    try:
        rows = parse_roster(file.read_bytes(), file.name)
    except RosterInvalid as e:
        click.echo(f"{file.name}：{len(e.problems)} 处问题，没有导入任何数据。", err=True)
        for p in e.problems:
            where = f"第 {p.line} 行" if p.line is not None else "文件"
            column = f" [{p.column}]" if p.column else ""
            click.echo(f"{where}{column} {p.text}", err=True)
        raise SystemExit(1) from None
    summary = import_roster(None, community, rows)
    db.session.commit()
    c = summary.counts()
    click.echo(f"导入完成：{c['rows']} 行；新建 {c['buildings_created']} 栋楼、"
               f"{c['units_created']} 户，更新 {c['units_updated']} 户，"
               f"{c['units_unchanged']} 户无变化；新建业主 {c['owners_created']} 位。")
    if summary.missing:
        click.echo(f"名册中另有 {len(summary.missing)} 户不在文件里，已保留未删除："
                   + "、".join(summary.missing))
