"""Settings: the typed sections (``settings``) and how the layers of configuration become one (``layers``)."""

from agentls.config.layers import (
    ENV_PREFIX,
    SENSITIVE,
    WORKSPACE_CONFIG,
    Layer,
    LoadedSettings,
    UntrustedConfig,
    env_layer,
    load_settings,
    read_toml_layer,
    resolve,
    user_config_path,
)
from agentls.config.settings import (
    DEFAULT_DENY,
    DEFAULT_MODEL,
    REMOVED,
    AgentSettings,
    BudgetSettings,
    CheckpointSettings,
    CommandSettings,
    ContextSettings,
    DebugSettings,
    DiagnosticsSettings,
    ModelSettings,
    Price,
    RetrySettings,
    Settings,
    ToolsSettings,
)

__all__ = [
    "DEFAULT_DENY", "DEFAULT_MODEL", "ENV_PREFIX", "REMOVED", "SENSITIVE", "WORKSPACE_CONFIG", "AgentSettings",
    "BudgetSettings", "CheckpointSettings", "CommandSettings", "ContextSettings", "DebugSettings",
    "DiagnosticsSettings", "Layer", "LoadedSettings", "ModelSettings", "Price", "RetrySettings", "Settings",
    "ToolsSettings", "UntrustedConfig", "env_layer", "load_settings", "read_toml_layer", "resolve",
    "user_config_path",
]
