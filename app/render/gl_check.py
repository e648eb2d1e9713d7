"""Can this display give the 3D views an OpenGL context? Asked once, before any vispy canvas is made.

vispy cannot be probed by drawing before its widget is on screen (a render before ``show()`` spoils
the canvas's later drawing), so the check makes a throw-away ``QOpenGLContext`` on an offscreen
surface instead. The ``offscreen`` and ``minimal`` Qt platforms have no OpenGL at all.
"""

from __future__ import annotations

import os

DISABLE_ENV = "TAODESK_DISABLE_3D"
_NO_GL_PLATFORMS = ("offscreen", "minimal", "vnc")
_cached: dict[str, str | None] = {}


def opengl_problem() -> str | None:
    """Why the 3D views cannot be shown here (a sentence for the user), or ``None`` when they can."""
    if os.environ.get(DISABLE_ENV, "").strip() not in ("", "0"):
        return f"3D views are turned off ({DISABLE_ENV} is set)."
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is None:
        return "3D views need a running Qt application."
    platform = QGuiApplication.platformName()
    if platform not in _cached:
        _cached[platform] = _probe(platform)
    return _cached[platform]


def _probe(platform: str) -> str | None:
    if platform in _NO_GL_PLATFORMS:
        return (
            f"The '{platform}' display has no OpenGL, so the 3D view is off. "
            "Run on a desktop or under an X server (QT_QPA_PLATFORM=xcb) to see it."
        )
    from PySide6.QtGui import QOffscreenSurface, QOpenGLContext

    context = QOpenGLContext()
    if not context.create():
        return "No OpenGL context could be created on this display, so the 3D view is off."
    surface = QOffscreenSurface()
    surface.setFormat(context.format())
    surface.create()
    try:
        if not surface.isValid() or not context.makeCurrent(surface):
            return "OpenGL is present but could not be used on this display, so the 3D view is off."
        context.doneCurrent()
    finally:
        surface.destroy()
    try:
        import vispy

        vispy.use(app="pyside6")
    except Exception as exc:  # vispy raises plain RuntimeError/ImportError subclasses here
        return f"The 3D library (vispy) could not start: {exc}"
    return None
