"""QR codes as inline SVG, drawn on the server (no request, no script, prints sharply)."""
from __future__ import annotations

import re

import qrcode
from markupsafe import Markup
from qrcode.image.svg import SvgPathImage


def qr_svg(data: str, label: str = "") -> Markup:
    """An <svg> element encoding `data`; sized by CSS (class "qr").

    Markup is safe here: the SVG holds only path geometry computed from `data`, and the
    label is escaped."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4,
                         image_factory=SvgPathImage)
    code.add_data(data)
    code.make(fit=True)
    svg = code.make_image().to_string(encoding="unicode")
    svg = re.sub(r'^<svg width="[^"]*" height="[^"]*"', "<svg", svg)
    svg = svg.replace(' id="qr-path"', "")   # several codes on one page (invitation slips)
    attrs = Markup(' class="qr" role="img" aria-label="{}"').format(label or data)
    return Markup(svg.replace("<svg", "<svg" + str(attrs), 1))
