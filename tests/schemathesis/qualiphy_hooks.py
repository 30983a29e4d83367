"""Schemathesis hooks for the Qualiphy surface, whose key travels in the JSON body (``api_key``), not in a
header: every generated JSON object body gets the demo clinic's key, so the run reaches the routes past
authentication. Loaded by the schemathesis CLI through ``SCHEMATHESIS_HOOKS``; the key comes from
``QUALIPHY_API_KEY``."""

from __future__ import annotations

import os
from typing import Any

import schemathesis


@schemathesis.hook
def before_call(_context: Any, case: Any, **_kwargs: Any) -> None:
    if isinstance(case.body, dict):
        case.body["api_key"] = os.environ["QUALIPHY_API_KEY"]
