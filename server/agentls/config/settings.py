"""The typed settings: every section, its keys, defaults and limits (``layers`` reads and merges them)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic.alias_generators import to_camel

from agentls.choices import Effort, ThinkingDisplay, ThinkingMode
from agentls.config.mcp import McpSettings

DEFAULT_MODEL = "claude-sonnet-5-5"


class _Section(BaseModel):
    """Accepts snake_case (TOML, env) and camelCase (editor settings); rejects unknown keys."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", validate_default=True
    )


class RetrySettings(_Section):
    """Retries of a failed model turn (429, 529, 5xx, dropped connections) and the circuit breaker."""

    max_attempts: int = Field(4, ge=1, le=20)
    base_delay_s: float = Field(1.0, ge=0)
    max_delay_s: float = Field(30.0, ge=0)
    #: After this many consecutive failed turns, fail fast for ``breaker_reset_s``.
    breaker_threshold: int = Field(5, ge=1)
    breaker_reset_s: float = Field(30.0, ge=0)


class ModelSettings(_Section):
    provider: Literal["anthropic"] = "anthropic"
    name: str = Field(DEFAULT_MODEL, min_length=1)
    #: Output tokens per turn, thinking included; checked against the model's limit before a request.
    max_tokens: int = Field(32_000, ge=1, le=1_000_000)
    #: ``output_config.effort``; unset: the model's default (``high`` on most, ``medium`` on Opus 5.5).
    effort: Effort | None = None
    #: ``adaptive``: the model decides when and how much to think (on by default on current models);
    #: ``between_tools``: no up-front thinking, only short updates between tool calls (Sonnet 5.5);
    #: ``disabled``: no thinking, on the models that allow it.
    thinking: ThinkingMode = "adaptive"
    #: ``summarized``: thinking text comes back and shows as progress; ``omitted``: only signatures.
    thinking_display: ThinkingDisplay = "summarized"
    base_url: str | None = None
    api_key: SecretStr | None = None
    timeout_s: float = Field(600.0, gt=0)
    #: The longest one streamed turn may take, however steadily the stream trickles (keep-alive pings
    #: reset the read timeout, not this); past it the turn fails like a timeout and is retried.
    turn_deadline_s: float = Field(900.0, gt=0)
    retry: RetrySettings = Field(default_factory=RetrySettings)


class Price(_Section):
    """US dollars per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write: float = Field(ge=0)
    cache_read: float = Field(ge=0)


#: Settings that no longer exist, with what to say once when a configuration still sets them.
REMOVED: dict[tuple[str, ...], str] = {
    ("model", "temperature"): "current Claude models reject sampling parameters (temperature, top_p, top_k); "
                              "the setting is ignored and requests are sent without it. Remove it; "
                              "model.effort and model.thinking control how the model works",
}


class BudgetSettings(_Section):
    """Per-session limits; the loop stops with a clear message when one is reached."""

    max_tokens: int | None = Field(None, ge=1)
    max_usd: float | None = Field(None, gt=0)


class DiagnosticsSettings(_Section):
    enabled: bool = True
    debounce_ms: int = Field(150, ge=0, le=10_000)
    #: Languages whose standalone syntax diagnostics are published. ``None``: those whose grammar
    #: raises no false alarms on real code (``publish_diagnostics`` in grammars/languages.toml).
    languages: list[str] | None = None
    #: Larger documents are not syntax-checked (one notice says so): a generated or minified file would
    #: cost the editor a parse of all of it.
    max_document_bytes: int = Field(1_000_000, ge=1_000)


#: Never read or written by any tool, whatever ``tools.deny`` says: git's files (``.git`` as a directory
#: or as a worktree's or submodule's ``gitdir:`` file, at any depth: rewriting one runs code at the
#: user's next ``git status``), and credentials (tokens, SSH and cloud keys).
PROTECTED = (
    ".git", ".git-credentials", ".gitconfig", ".netrc", "_netrc", ".npmrc", ".pypirc", ".yarnrc.yml",
    ".ssh/", ".gnupg/", ".aws/", ".azure/", "**/.config/gcloud/", "**/.docker/config.json", ".kube/",
    "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", "*.pem", "*.key", "*.p12", "*.pfx",
)
#: The default ``tools.deny``; git's files and credentials are refused whatever it says
#: (``PROTECTED``).
DEFAULT_DENY = (".env*", "*.secret", "credentials.json", "*.tfstate")


class CommandSettings(_Section):
    """``run_command``: off unless enabled; each command must match an allowed pattern."""

    enabled: bool = False
    #: fnmatch patterns over the whole command line, e.g. ``"pytest*"``, ``"npm test"``.
    allow: list[str] = Field(default_factory=list)
    #: Run without bubblewrap when it is not installed (otherwise such runs are refused).
    allow_unsandboxed: bool = False
    timeout_s: float = Field(120.0, gt=0)
    max_output_chars: int = Field(30_000, ge=1_000)
    #: Limits of each command and what it starts (``prlimit``): data memory, CPU time, processes of the
    #: user (not enforced for root), size of one written file.
    max_memory_mb: int = Field(4_096, ge=64)
    max_cpu_s: int = Field(600, ge=1)
    max_processes: int = Field(1_024, ge=8)
    max_file_mb: int = Field(2_048, ge=1)


class ToolsSettings(_Section):
    #: Paths never read or written (gitignore-style globs, relative to the workspace root).
    deny: list[str] = Field(default_factory=lambda: list(DEFAULT_DENY))
    max_file_bytes: int = Field(1_000_000, ge=1_000)
    run_command: CommandSettings = Field(default_factory=CommandSettings)
    #: The API's own tools, run by Anthropic (off unless listed): ``web_search`` ($10 per 1,000 searches),
    #: ``web_fetch``, ``code_execution`` (a sandboxed container; its files reach the workspace only as
    #: proposals).
    server: list[Literal["web_search", "web_fetch", "code_execution"]] = Field(default_factory=list)


class CheckpointSettings(_Section):
    """A shadow git history of every agent change (never the user's own repository)."""

    enabled: bool = True
    retention: int = Field(200, ge=1, le=100_000)
    #: Larger files are skipped (and listed) rather than stored.
    max_file_bytes: int = Field(5_000_000, ge=1_000)


class AgentSettings(_Section):
    max_turns: int = Field(40, ge=1, le=500)
    #: The longest a session may work (model turns and tools, follow-ups included); past it the session
    #: stops and keeps what it proposed so far.
    session_deadline_s: float = Field(3600.0, gt=0)
    #: Rounds of "your change introduced these syntax errors" feedback before offering it anyway.
    repair_rounds: int = Field(2, ge=0, le=10)
    budget: BudgetSettings = Field(default_factory=BudgetSettings)
    #: The context window in tokens a session is compacted near; unset: the model's (1M on current models).
    context_window: int | None = Field(None, ge=4_096)
    #: Share of the context window at which older turns are summarised.
    compact_at: float = Field(0.8, gt=0.1, le=0.98)
    #: Tool results longer than this are cut in the middle, with a note saying so.
    max_tool_result_chars: int = Field(40_000, ge=1_000)


class ContextSettings(_Section):
    """What the context engine shows the model: the symbol index, the repo map, the parts of an edit."""

    enabled: bool = True
    #: Files larger than this are not indexed (generated or vendored code, data).
    max_file_bytes: int = Field(500_000, ge=1_000)
    #: Workspaces with more files than this are indexed only up to it (the rest is left out and logged).
    max_files: int = Field(200_000, ge=1)
    #: Token budgets of the parts of an edit's context.
    repo_map_tokens: int = Field(1_024, ge=0, le=32_000)
    definitions_tokens: int = Field(3_000, ge=0, le=64_000)
    scope_tokens: int = Field(1_500, ge=0, le=32_000)
    imports_tokens: int = Field(400, ge=0, le=8_000)
    #: Index worker processes (0: one per CPU).
    workers: int = Field(0, ge=0, le=64)


class StoreSettings(_Section):
    """The shared store (``agentls.store``): how long what sessions did stays recorded."""

    #: Session events (the dashboard's timeline) older than this are deleted when a recorder starts;
    #: sessions and usage rows are kept (they are small).
    events_retention_days: int = Field(90, ge=1, le=36500)


class DebugSettings(_Section):
    """For finding problems: off by default."""

    #: Log every stall of the language server's event loop over this many milliseconds, with the stack
    #: it was in (0: off).
    loop_stall_ms: int = Field(0, ge=0, le=60_000)


class Settings(_Section):
    model: ModelSettings = Field(default_factory=ModelSettings)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    #: Price overrides by fnmatch pattern over the model name (first match wins); the built-in model
    #: table (providers/models.py) prices every known model.
    prices: dict[str, Price] = Field(default_factory=dict)
    diagnostics: DiagnosticsSettings = Field(default_factory=DiagnosticsSettings)
    tools: ToolsSettings = Field(default_factory=ToolsSettings)
    checkpoints: CheckpointSettings = Field(default_factory=CheckpointSettings)
    context: ContextSettings = Field(default_factory=ContextSettings)
    debug: DebugSettings = Field(default_factory=DebugSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    mcp: McpSettings = Field(default_factory=McpSettings)
    review: Literal["inline", "confirm"] = "inline"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_file: str | None = None


