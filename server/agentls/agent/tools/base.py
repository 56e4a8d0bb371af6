"""What every tool shares: its result, its context, its protocol, and input validation.

A tool never raises to the agent loop: invalid input and expected failures (a path outside the
workspace, a denied or binary file, a missing file) come back as ``ToolResult(..., is_error=True)``
with a message the model can act on. ``BaseTool`` does that for our own tools: it validates the
input with a pydantic model (whose JSON schema is the tool's ``input_schema``), calls ``execute``,
and turns the project's errors into error results. The registry catches anything else.
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Literal, Protocol, TypeVar, cast, runtime_checkable

from pydantic import BaseModel, ConfigDict, ValidationError

from agentls.agent.overlay import Overlay
from agentls.agent.workspace import Workspace
from agentls.config import ToolsSettings
from agentls.errors import AgentlsError
from agentls.questions import Asker
from agentls.store.audit import AuditLog


@dataclass(frozen=True)
class CommandRun:
    """What a command did, for code that reads it (the plan verifier) rather than the model's text."""

    outcome: Literal["exited", "timeout", "cancelled"]
    exit_code: int | None
    #: stdout and stderr interleaved, cut in the middle when long.
    output: str


@dataclass(frozen=True)
class ToolResult:
    """What goes back to the model in a ``tool_result`` block (``content``); ``ran`` is for the code."""

    content: str
    is_error: bool = False
    #: The command this result reports, when one ran (``run_command``).
    ran: CommandRun | None = None
    #: Images for the model, (media type, base64 data): an MCP tool's screenshots and charts.
    images: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ToolCall:
    """One ``tool_use`` block: its id, the tool's name and the input the model gave."""

    id: str
    name: str
    input: Mapping[str, Any]


@dataclass
class ToolContext:
    """What a tool may use. One per session; tools keep no state of their own between calls."""

    workspace: Workspace
    overlay: Overlay
    settings: ToolsSettings = field(default_factory=ToolsSettings)
    session_id: str = ""
    audit: AuditLog | None = None
    #: Set by the user's cancel: long-running tools (run_command) stop and answer an error.
    cancel: threading.Event = field(default_factory=threading.Event)
    #: run_command cannot see the overlay. False (the language server): refuse commands while the
    #: overlay holds uncommitted edits. True (the headless CLI, which writes to disk anyway):
    #: commit the overlay to disk first, then run.
    commit_before_commands: bool = False
    #: Takes a checkpoint (paths, or None for the whole tree; trigger). Blocking: call it in a thread.
    #: run_command calls it before writing pending edits and after every command (which may write
    #: anything). It raises ``CheckpointError`` when no checkpoint could be taken.
    checkpoint: Callable[[Sequence[str] | None, str], object] | None = None
    #: Plan mode: tools that would write (text editor edits, run_command) refuse, telling the model why.
    read_only: bool = False
    #: Puts a question to the user (``Runtime.ask``); None: nobody to ask, tools take the cautious way.
    ask: Asker | None = None
    #: Command lines the user allowed for the rest of this session (run_command's "always").
    approved_commands: set[str] = field(default_factory=set)
    #: MCP tools the user allowed for the rest of this session.
    approved_tools: set[str] = field(default_factory=set)
    #: The editor's text of a workspace file (None: the editor does not have it): front ends whose editor
    #: serves files (ACP's ``fs/read_text_file``) let the session see unsaved typing.
    read_through: Callable[[str], Awaitable[str | None]] | None = None

    def record(self, event: str, **fields: Any) -> None:
        """Append an audit event for this session (no-op without an audit log)."""
        if self.audit is not None:
            self.audit.record(event, session=self.session_id, **fields)


@runtime_checkable
class Tool(Protocol):
    """A tool the model can call."""

    @property
    def name(self) -> str:
        """The name the model calls it by (unique in a registry)."""
        ...

    @property
    def read_only(self) -> bool:
        """True when the tool changes nothing (the registry runs such calls concurrently)."""
        ...

    def definition(self) -> dict[str, Any]:
        """The entry for the Messages API's ``tools`` list."""
        ...

    async def run(self, input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        """Carry out one call; never raises for bad input or expected failures."""
        ...


class ToolInput(BaseModel):
    """Base for our tools' input models: unknown fields are an error the model is told about."""

    model_config = ConfigDict(extra="forbid")


InputT = TypeVar("InputT", bound=BaseModel)


def describe_validation_error(tool: str, exc: ValidationError) -> str:
    """A short explanation of what was wrong with the input, one line per problem."""
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "input"
        if error["type"] == "extra_forbidden":
            problems.append(f"- unknown field '{where}'")
        elif error["type"] == "missing":
            problems.append(f"- '{where}' is required")
        else:
            problems.append(f"- '{where}': {error['msg']}")
    return f"Invalid input for {tool}:\n" + "\n".join(problems)


def clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON schema made compact for the model: no titles, ``X | None`` shown as ``X``."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            node = {
                key: walk(value)
                for key, value in node.items()
                if not (key == "title" and isinstance(value, str))  # a field named "title" stays
            }
            options = node.get("anyOf")
            if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
                (kept,) = [option for option in options if option != {"type": "null"}]
                node.pop("anyOf")
                if node.get("default", 0) is None:
                    node.pop("default")
                node = {**kept, **node}
            return node
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    cleaned: dict[str, Any] = walk(schema)
    return cleaned


class BaseTool(ABC, Generic[InputT]):
    """A tool of ours: a pydantic input model, a description, and ``execute``."""

    name: ClassVar[str]
    description: ClassVar[str]
    read_only: ClassVar[bool] = True
    input_model: ClassVar[type[BaseModel]]

    def describe(self) -> str:
        """The description in the definition (a tool may add its configuration)."""
        return self.description

    def definition(self) -> dict[str, Any]:
        schema = clean_schema(self.input_model.model_json_schema())
        # Round-trip through JSON so the definition is plain data, byte-stable across calls.
        result: dict[str, Any] = json.loads(
            json.dumps({"name": self.name, "description": self.describe(), "input_schema": schema})
        )
        return result

    async def run(self, input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        try:
            params = self.input_model.model_validate(dict(input))
        except ValidationError as exc:
            return ToolResult(describe_validation_error(self.name, exc), is_error=True)
        try:
            return await self.execute(cast(InputT, params), ctx)
        except (AgentlsError, OSError) as exc:
            return ToolResult(error_message(exc), is_error=True)

    @abstractmethod
    async def execute(self, params: InputT, ctx: ToolContext) -> ToolResult:
        """Do the work with validated input."""


def error_message(exc: BaseException) -> str:
    """The message the model sees for an expected failure."""
    if isinstance(exc, AgentlsError):
        return str(exc)
    detail = exc.args[0] if exc.args and isinstance(exc.args[0], str) else None
    if isinstance(exc, FileNotFoundError):
        what = detail or f"{exc.filename or 'the file'} does not exist"
        return f"{what}. Check the path: list_files or a view of the directory shows what exists."
    if isinstance(exc, IsADirectoryError):
        return detail or f"{exc.filename or 'the path'} is a directory"
    if isinstance(exc, OSError):
        return f"{exc.strerror or type(exc).__name__}: {exc.filename or ''}".rstrip(": ")
    return str(exc)
