"""The values some settings take, as types: a leaf that costs nothing to import (no pydantic), so that
the protocol-facing modules can name them without loading the settings machinery at start-up."""

from __future__ import annotations

from typing import Literal, TypeAlias

#: ``output_config.effort`` levels, lowest first.
Effort: TypeAlias = Literal["low", "medium", "high", "xhigh", "max"]
#: How the model thinks (``model.thinking``) and whether its thinking text comes back.
ThinkingMode: TypeAlias = Literal["adaptive", "between_tools", "disabled"]
ThinkingDisplay: TypeAlias = Literal["summarized", "omitted"]
