"""Reading the QR codes the app draws: the inline SVG (a path of one-module squares) is
rasterised with Pillow and decoded by ZXing, the way a phone's camera app would read it."""
from __future__ import annotations

import re

import zxingcpp
from PIL import Image, ImageDraw

_SVG = re.compile(r'<svg class="qr"[^>]*viewBox="0 0 ([\d.]+) ([\d.]+)"[^>]*>\s*<path d="([^"]+)"')


def svgs(html: str) -> list[tuple[int, str]]:
    """(size in modules, path data) of each QR code in the page."""
    return [(int(float(w)), d) for w, _h, d in _SVG.findall(html)]


def decode_svg(size: int, path: str, scale: int = 8) -> str:
    img = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(img)
    squares = re.findall(r"M([\d.]+),([\d.]+)H([\d.]+)V([\d.]+)H[\d.]+z", path)
    assert squares, "no modules in the QR path"
    for x0, y0, x1, y1 in squares:
        draw.rectangle([float(x0) * scale, float(y0) * scale,
                        float(x1) * scale - 1, float(y1) * scale - 1], fill=0)
    return decode_image(img)


def decode_image(img: Image.Image) -> str:
    found = zxingcpp.read_barcodes(img.convert("L"))
    assert len(found) == 1, f"{len(found)} codes found"
    return found[0].text


def decode_page(html: str) -> list[str]:
    """The text of every QR code in the page, in order."""
    return [decode_svg(size, path) for size, path in svgs(html)]
