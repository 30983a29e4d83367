"""Jinja2 environment shared by every audience's pages."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"

_environment = Environment(
    loader=ChoiceLoader(
        [
            FileSystemLoader(str(WEB_DIR / "console" / "templates")),
            FileSystemLoader(str(WEB_DIR / "form_builder" / "templates")),  # form_builder/macros.html
        ]
    ),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_environment)
