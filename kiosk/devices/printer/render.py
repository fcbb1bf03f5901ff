"""Optional PNG preview of a printed ticket (Pillow + a CJK font when the system has one)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from kiosk.devices.printer.commands import Align
from kiosk.devices.printer.page import PrintedLine, PrintedTicket

PAPER_WIDTH_DOTS = 384  # 58 mm paper at 203 dpi
BASE_FONT_DOTS = 24  # Chinese glyphs of ESC/POS font A are 24x24 dots
QR_MODULE_DOTS = 6
_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")
_FONT_PATTERNS = ("*NotoSansCJK*", "*NotoSerifCJK*", "*wqy*", "*SourceHan*", "*DroidSansFallback*")


@cache
def find_cjk_font() -> Path | None:
    """A font file with Chinese glyphs, or None when the system has none."""
    for pattern in _FONT_PATTERNS:
        for folder in _FONT_DIRS:
            root = Path(folder)
            if not root.is_dir():
                continue
            for path in sorted(root.rglob(pattern)):
                if path.suffix.lower() in (".ttc", ".ttf", ".otf"):
                    return path
    return None


@cache
def _simplified_face_index(font_path: Path) -> int:
    """Index of the Simplified Chinese face in a collection (its punctuation sits low-left)."""
    for index in range(8):
        try:
            name = ImageFont.truetype(str(font_path), BASE_FONT_DOTS, index=index).getname()[0] or ""
        except OSError:
            break
        if name.endswith(" SC"):
            return index
    return 0


def _qr_block(payload: str) -> Image.Image:
    code = qrcode.QRCode(box_size=QR_MODULE_DOTS, border=1)
    code.add_data(payload)
    code.make(fit=True)
    return code.make_image().get_image().convert("L")


def _text_block(line: PrintedLine, font_path: Path) -> Image.Image:
    size = BASE_FONT_DOTS * line.height
    font = ImageFont.truetype(str(font_path), size, index=_simplified_face_index(font_path))
    height = size * 3 // 2
    # Draw at the line's height, then stretch horizontally for the width multiplier.
    width = max(1, int(ImageDraw.Draw(Image.new("L", (1, 1))).textlength(line.text, font=font)) + 1)
    block = Image.new("L", (width, height), 255)
    ImageDraw.Draw(block).text((0, 2), line.text, font=font, fill=0)
    scaled_width = max(1, width * line.width // line.height)
    # The preview font is proportional and wider than the printer's 12-dot ASCII: squeeze to the paper.
    scaled_width = min(scaled_width, PAPER_WIDTH_DOTS)
    if scaled_width != width:
        block = block.resize((scaled_width, height))
    return block


def _place(block: Image.Image, align: Align) -> Image.Image:
    row = Image.new("L", (PAPER_WIDTH_DOTS, block.height), 255)
    width = min(block.width, PAPER_WIDTH_DOTS)
    left = {
        Align.LEFT: 0,
        Align.CENTER: (PAPER_WIDTH_DOTS - width) // 2,
        Align.RIGHT: PAPER_WIDTH_DOTS - width,
    }
    row.paste(block.crop((0, 0, width, block.height)), (left[align], 0))
    return row


def render_png(ticket: PrintedTicket, path: Path) -> bool:
    """Draw the ticket into ``path``; False (and no file) when no CJK font is installed."""
    font_path = find_cjk_font()
    if font_path is None:
        return False
    rows = [
        _place(_qr_block(line.qr) if line.qr is not None else _text_block(line, font_path), line.align)
        for line in ticket.lines
    ]
    page = Image.new("L", (PAPER_WIDTH_DOTS, max(1, sum(row.height for row in rows))), 255)
    top = 0
    for row in rows:
        page.paste(row, (0, top))
        top += row.height
    page.save(path)
    return True
