"""The CJK font the PDF walk sheet is set in, found on this machine and embedded (subset) into every PDF.

reportlab embeds only fonts with TrueType outlines. Debian's usual CJK fonts (fonts-noto-cjk) have PostScript/CFF
outlines and cannot be used, so we look for a TrueType one: WenQuanYi Micro Hei (`apt-get install
fonts-wqy-microhei`, 1.6 MB, the default), or any other listed below, or the file named by QIAOMEN_CJK_FONT.
Without one the sheet is refused with a message naming the package, never printed with blank boxes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

from django.conf import settings
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

FONT_NAME = "QiaomenCJK"
APT_PACKAGE = "fonts-wqy-microhei"

# (path, index inside a .ttc collection); TrueType outlines only, most suitable first.
CANDIDATES: list[tuple[str, int]] = [
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0),
    ("/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc", 0),  # Fedora
    ("/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc", 0),
    ("C:/Windows/Fonts/simhei.ttf", 0),
    ("C:/Windows/Fonts/msyh.ttc", 0),
    ("/System/Library/Fonts/STHeiti Medium.ttc", 0),
    ("/Library/Fonts/Arial Unicode.ttf", 0),
]

_lock = threading.Lock()
_registered: str | None = None


class CJKFontMissing(RuntimeError):
    """No TrueType CJK font on this machine: the PDF cannot be made legible."""

    def __init__(self, unusable: list[str]):
        self.unusable = unusable
        skipped = f" Found but not embeddable: {', '.join(unusable)}." if unusable else ""
        super().__init__(
            "没有找到可嵌入PDF的中文TrueType字体。请安装：apt-get install " + APT_PACKAGE
            + "（或将 QIAOMEN_CJK_FONT 设为一个 .ttf/.ttc 字体文件的路径）。 / "
            "No embeddable CJK TrueType font found. Install one: `apt-get install " + APT_PACKAGE + "` "
            "(or set QIAOMEN_CJK_FONT to the path of a .ttf/.ttc file; fonts-noto-cjk will not do, its outlines are "
            "PostScript/CFF, which reportlab cannot embed)." + skipped
        )


def _configured() -> list[tuple[str, int]]:
    """QIAOMEN_CJK_FONT from the environment or settings: `/path/font.ttc` or `/path/font.ttc#1` (collection index)."""
    value = os.environ.get("QIAOMEN_CJK_FONT") or getattr(settings, "QIAOMEN_CJK_FONT", "")
    if not value:
        return []
    path, _, index = str(value).partition("#")
    return [(path, int(index or 0))]


def _fontconfig() -> list[tuple[str, int]]:
    """Chinese fonts fontconfig knows of, as a last resort (most are CFF and get skipped by the loader)."""
    if not shutil.which("fc-list"):
        return []
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file", "index"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in out.stdout.splitlines():
        path, _, rest = line.partition(":")
        index = rest.strip().removeprefix("index=").strip() or "0"
        if path.lower().endswith((".ttf", ".ttc")) and index.isdigit():
            found.append((path.strip(), int(index)))
    return sorted(set(found))


def _load(path: str, index: int) -> TTFont | None:
    try:
        return TTFont(FONT_NAME, path, subfontIndex=index)
    except (TTFError, OSError, ValueError):
        return None  # PostScript outlines, a broken file, or no such index in the collection


def cjk_font() -> str:
    """Register the first usable CJK TrueType font with reportlab (once per process) and return its name.

    Raises CJKFontMissing, naming the package to install, when there is none.
    """
    global _registered
    with _lock:
        if _registered:
            return _registered
        unusable = []
        for path, index in [*_configured(), *CANDIDATES, *_fontconfig()]:
            if not Path(path).is_file():
                continue
            font = _load(path, index)
            if font is None:
                unusable.append(f"{path}#{index}")
            else:
                pdfmetrics.registerFont(font)
                _registered = FONT_NAME
                return _registered
        raise CJKFontMissing(unusable)


def reset() -> None:
    """Forget the font found (tests that change QIAOMEN_CJK_FONT)."""
    global _registered
    with _lock:
        _registered = None
