"""`flask roster import`: the same rules as the upload, for the command line."""
from __future__ import annotations

from sqlalchemy import func, select

from civic.audit.models import AuditEvent
from civic.communities.models import Unit
from civic.extensions import db
from civic.roster.cli import roster_cli
from tests.roster.conftest import csv_bytes, xlsx_bytes


def run(runner, *args):
    """Invoke the group directly, so the test does not depend on its registration."""
    return runner.invoke(roster_cli, list(args))


def units(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Unit))


def test_import_prints_summary(runner, app, community, tmp_path):
    path = tmp_path / "名册.csv"
    path.write_bytes(csv_bytes([["1", "101", "90", "张三"], ["1", "102", "80", ""]],
                               encoding="gb18030"))
    result = run(runner, "import", "--community", community.slug, str(path))
    assert result.exit_code == 0, result.output
    assert "新建 1 栋楼、2 户" in result.output and "新建业主 2 位" in result.output
    assert units(app) == 2
    with app.app_context():
        ev = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "roster.import")).scalar_one()
        assert ev.actor == "system" and ev.community_id == community.id


def test_reimport_reports_units_absent_from_the_file(runner, app, community, tmp_path):
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    first.write_bytes(xlsx_bytes([[1, 101, 90, "张三"], [1, 102, 80, "李四"]]))
    second.write_bytes(xlsx_bytes([[1, 101, 90, "张三"]]))
    assert run(runner, "import", "--community", community.slug, str(first)).exit_code == 0
    result = run(runner, "import", "--community", community.slug, str(second))
    assert result.exit_code == 0
    assert "1 户无变化" in result.output and "已保留未删除：1号楼102" in result.output
    assert units(app) == 2


def test_bad_file_prints_every_problem_and_exits_1(runner, app, community, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes([["1", "101", "x", "张三"], ["1", "102", "90", "李四"],
                                ["1", "101", "90", "王五"]]))
    result = run(runner, "import", "--community", community.slug, str(path))
    assert result.exit_code == 1
    assert "2 处问题，没有导入任何数据" in result.output
    assert "第 2 行 [面积]" in result.output and "第 4 行 [房号]" in result.output
    assert units(app) == 0


def test_unknown_community_and_missing_file(runner, app, community, tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(csv_bytes([["1", "101", "90", "张三"]]))
    result = run(runner, "import", "--community", "nope", str(path))
    assert result.exit_code == 1 and "找不到小区" in result.output
    result = run(runner, "import", "--community", community.slug, str(tmp_path / "none.csv"))
    assert result.exit_code == 2
    assert units(app) == 0
