"""Photos: only real JPEG/PNG/WEBP, re-encoded without EXIF/GPS, random names outside
static/, nothing left on disk when a request fails, served with nosniff."""
import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from civic.extensions import db
from civic.issues.models import Issue, IssuePhoto
from tests.conftest import jpeg_bytes


def _exif_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"                       # Make
    exif[0x8825] = {1: "N", 2: (31.0, 12.0, 30.0)}    # GPSInfo
    return exif.tobytes()


def _upload(client, c, files, **extra):
    data = {"title": "照片测试", "category": "其他", "building_id": "", "place_text": "",
            "body": "", "action": "publish", "idempotency_key": extra.pop("key", "p1"),
            "photos": files}
    data.update(extra)
    return client.post(f"/c/{c.slug}/issues/new", data=data, content_type="multipart/form-data")


def _files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_photo_reencoded_without_exif_and_served(app, client, make, auth):
    c = make.community()
    auth.login(make.resident(c))
    raw = jpeg_bytes((3000, 2000), exif=_exif_with_gps())
    assert b"PhoneMaker" in raw
    resp = _upload(client, c, [(io.BytesIO(raw), "IMG_0001.jpg")])
    assert resp.status_code == 303
    files = _files(app)
    assert len(files) == 2                                   # display + thumbnail
    static = Path(app.static_folder).resolve()
    for f in files:
        assert static not in f.resolve().parents
        assert "IMG_0001" not in f.name
        data = f.read_bytes()
        assert b"PhoneMaker" not in data and b"Exif" not in data
        with Image.open(f) as img:
            assert max(img.size) <= 1600 and not img.getexif()
    with app.app_context():
        stem = db.session.query(IssuePhoto).one().stem
    resp = client.get(f"/c/{c.slug}/photos/{stem}.jpg")
    assert resp.status_code == 200 and resp.mimetype == "image/jpeg"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/c/{c.slug}/photos/{stem}_t.jpg").status_code == 200
    other = make.community()
    assert client.get(f"/c/{other.slug}/photos/{stem}.jpg").status_code == 404


def test_png_with_transparency_and_webp_accepted(app, client, make, auth):
    c = make.community()
    auth.login(make.resident(c))
    png = io.BytesIO()
    Image.new("RGBA", (50, 40), (0, 0, 0, 0)).save(png, "PNG")
    webp = jpeg_bytes((60, 60), fmt="WEBP")
    resp = _upload(client, c, [(io.BytesIO(png.getvalue()), "a.png"), (io.BytesIO(webp), "b.webp")])
    assert resp.status_code == 303 and len(_files(app)) == 4


@pytest.mark.parametrize("name,data,message", [
    ("evil.jpg", b"<html><script>alert(1)</script></html>", "只能上传 JPEG、PNG 或 WEBP"),
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
     "只能上传 JPEG、PNG 或 WEBP"),
    ("anim.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "只能上传 JPEG、PNG 或 WEBP"),
])
def test_non_images_refused_and_nothing_stored(app, client, make, auth, name, data, message):
    c = make.community()
    auth.login(make.resident(c))
    good = jpeg_bytes()
    resp = _upload(client, c, [(io.BytesIO(good), "ok.jpg"), (io.BytesIO(data), name)])
    assert resp.status_code == 400 and message in resp.get_data(as_text=True)
    assert _files(app) == []
    with app.app_context():
        assert db.session.query(Issue).count() == 0


def test_decompression_bomb_refused(app, client, make, auth):
    c = make.community()
    auth.login(make.resident(c))
    bomb = io.BytesIO()
    Image.new("1", (20000, 20000)).save(bomb, "PNG")   # tiny file, 400 megapixels
    resp = _upload(client, c, [(io.BytesIO(bomb.getvalue()), "big.png")])
    assert resp.status_code == 400 and "像素太多" in resp.get_data(as_text=True)
    assert _files(app) == []


def test_more_than_six_photos_refused(app, client, make, auth):
    c = make.community()
    auth.login(make.resident(c))
    resp = _upload(client, c, [(io.BytesIO(jpeg_bytes((20, 20))), f"{i}.jpg") for i in range(7)])
    assert resp.status_code == 400 and "最多上传 6 张" in resp.get_data(as_text=True)
    assert _files(app) == []


def test_request_over_size_limit_refused(app, client, make, auth):
    c = make.community()
    auth.login(make.resident(c))
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    resp = _upload(client, c, [(io.BytesIO(b"\xff" * (2 * 1024 * 1024)), "huge.jpg")])
    assert resp.status_code == 413 and "文件太大" in resp.get_data(as_text=True)
    assert _files(app) == []


def test_failed_transaction_removes_written_files(app, client, make, auth, monkeypatch):
    """The photo is written, then the database write fails: no orphan file stays."""
    from civic.issues import operations as ops
    c = make.community()
    auth.login(make.resident(c))

    def boom(*a, **k):
        raise RuntimeError("database went away")
    monkeypatch.setattr(ops.audit, "record", boom)
    resp = _upload(client, c, [(io.BytesIO(jpeg_bytes()), "a.jpg")])
    assert resp.status_code == 500
    assert _files(app) == []


def test_a_failing_disk_write_answers_503_and_leaves_no_file(app, client, make, auth,
                                                             monkeypatch):
    """The disk fills up while the third of four files is written (display and thumbnail
    of two photos): half of it is on disk when the write fails. The request answers 503,
    no issue is stored, and none of the files — the two complete ones and the partial one —
    remains."""
    c = make.community()
    auth.login(make.resident(c))
    real = Path.write_bytes
    calls = []

    def write_bytes(self, data):
        calls.append(self)
        if len(calls) == 3:
            real(self, data[: len(data) // 2])
            raise OSError(28, "No space left on device")
        return real(self, data)
    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    resp = _upload(client, c, [(io.BytesIO(jpeg_bytes()), "a.jpg"),
                               (io.BytesIO(jpeg_bytes()), "b.jpg")])
    assert resp.status_code == 503
    assert "你的操作没有被保存" in resp.get_data(as_text=True)
    assert len(calls) == 3 and _files(app) == []
    with app.app_context():
        assert db.session.scalar(select(func.count(Issue.id))) == 0


def test_draft_photos_only_for_the_author(app, client, make, auth):
    c = make.community()
    author = make.resident(c)
    auth.login(author)
    _upload(client, c, [(io.BytesIO(jpeg_bytes()), "a.jpg")], action="draft")
    with app.app_context():
        stem = db.session.query(IssuePhoto).one().stem
    assert client.get(f"/c/{c.slug}/photos/{stem}.jpg").headers["Cache-Control"] == "private, no-store"
    auth.logout()
    assert client.get(f"/c/{c.slug}/photos/{stem}.jpg").status_code == 404
    assert client.get(f"/c/{c.slug}/photos/../../etc/passwd.jpg").status_code == 404
