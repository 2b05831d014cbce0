"""Chinese glyphs: Kivy's bundled Roboto has none (every 汉字 shows as a box), so the CJK font bundled with the app
is registered under Kivy's default font name; every Label, Button and TextInput then uses it."""

from __future__ import annotations

import os

from kivy.core.text import DEFAULT_FONT, LabelBase

HERE = os.path.dirname(os.path.abspath(__file__))
BUNDLED = os.path.join(HERE, "..", "..", "fonts", "wqy-microhei.ttc")
SYSTEM = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # Debian/Ubuntu fonts-wqy-microhei
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # fonts-noto-cjk
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",  # Fedora
    "/system/fonts/NotoSansCJK-Regular.ttc",  # Android
    "/System/Library/Fonts/PingFang.ttc",  # macOS
    "C:/Windows/Fonts/msyh.ttc",  # Windows, Microsoft YaHei
]


def register_cjk_font() -> str | None:
    """Register the first CJK font found (bundled first); returns its path, or None (boxes will show)."""
    for path in [os.path.normpath(BUNDLED), *SYSTEM]:
        if os.path.exists(path):
            LabelBase.register(DEFAULT_FONT, path)
            return path
    return None
