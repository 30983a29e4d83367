"""ASGI entry point for multi-process serving.

``uvicorn --factory clinicore.asgi:create_app_from_environment``
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from clinicore.app import create_app
from clinicore.config import load_settings
from clinicore.kit.observability import configure_logging
from clinicore.runtime import Runtime


def create_app_from_environment() -> FastAPI:
    settings = load_settings()
    configure_logging(settings.log_level)
    embedded_worker = os.environ.get("CLINICORE_EMBEDDED_WORKER", "0") == "1"
    return create_app(Runtime.from_settings(settings), embedded_worker=embedded_worker)
