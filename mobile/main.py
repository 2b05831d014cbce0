"""Buildozer entry point (and `make mobile` on a desktop): the 敲门 Qiaomen field client."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("KIVY_NO_ARGS", "1")  # our settings come from the environment, not Kivy's argv parser

if "ANDROID_ARGUMENT" not in os.environ:
    # Desktop: a phone-shaped window. Must be set before Kivy opens the window.
    from kivy.config import Config

    width, _, height = os.environ.get("QIAOMEN_WINDOW", "450x800").partition("x")
    Config.set("graphics", "width", width)
    Config.set("graphics", "height", height)
    Config.set("input", "mouse", "mouse,multitouch_on_demand")  # no red dots on right-click

from qiaomen_field.app import main  # noqa: E402

if __name__ == "__main__":
    main()
