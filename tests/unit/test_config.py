"""Settings layering: defaults < user TOML < workspace TOML < environment < editor settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentls.config import DEFAULT_MODEL, load_settings


@pytest.fixture
def user_config(tmp_path: Path) -> Path:
    return tmp_path / "user.toml"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    path.mkdir()
    return path


def test_defaults_when_nothing_is_configured(workspace: Path, user_config: Path) -> None:
    loaded = load_settings(workspace, environ={}, user_config=user_config)
    assert loaded.warnings == []
    assert loaded.settings.model.name == DEFAULT_MODEL
    assert loaded.settings.diagnostics.debounce_ms == 150
    assert loaded.settings.review == "inline"


def test_each_layer_overrides_the_one_below(workspace: Path, user_config: Path) -> None:
    user_config.write_text('review = "confirm"\n[model]\nname = "user-model"\nmax_tokens = 100\n'
                           '[diagnostics]\ndebounce_ms = 10\n')
    (workspace / "agentls.toml").write_text(
        '[model]\nname = "workspace-model"\n[diagnostics]\ndebounce_ms = 20\n')
    environ = {"AGENTLS_DIAGNOSTICS__DEBOUNCE_MS": "30", "AGENTLS_MODEL__EFFORT": "low"}
    editor = {"diagnostics": {"debounceMs": 40}}

    settings = load_settings(workspace, editor, environ, user_config).settings
    assert settings.review == "confirm"  # user only
    assert settings.model.max_tokens == 100  # user only
    assert settings.model.name == "workspace-model"  # workspace over user
    assert settings.model.effort == "low"  # environment
    assert settings.diagnostics.debounce_ms == 40  # editor over everything

    without_editor = load_settings(workspace, None, environ, user_config).settings
    assert without_editor.diagnostics.debounce_ms == 30


def test_a_removed_setting_gets_one_warning_naming_it_and_is_not_sent(workspace: Path, user_config: Path) -> None:
    (workspace / "agentls.toml").write_text("[model]\ntemperature = 0.2\nmax_tokens = 4000\n")
    loaded = load_settings(workspace, {"model": {"temperature": 0.7}}, {}, user_config)
    assert len(loaded.warnings) == 2  # one per layer that sets it
    workspace_warning = loaded.warnings[0]
    assert workspace_warning.startswith("workspace config (")
    assert "'model.temperature' is no longer supported: current Claude models reject sampling parameters" in \
        workspace_warning
    assert loaded.settings.model.max_tokens == 4000  # the rest of the layer still counts
    assert not hasattr(loaded.settings.model, "temperature")
    assert "temperature" not in loaded.settings.model.model_dump()


def test_thinking_and_effort_settings(workspace: Path, user_config: Path) -> None:
    defaults = load_settings(workspace, environ={}, user_config=user_config).settings.model
    assert (defaults.thinking, defaults.thinking_display, defaults.effort) == ("adaptive", "summarized", None)
    assert defaults.max_tokens == 32_000
    loaded = load_settings(workspace, {"model": {"thinking": "between_tools", "effort": "extreme",
                                                  "thinkingDisplay": "omitted"}}, {}, user_config)
    assert loaded.settings.model.thinking == "between_tools"
    assert loaded.settings.model.thinking_display == "omitted"
    assert loaded.settings.model.effort is None  # the bad value is dropped, with a warning
    assert any("'model.effort' = 'extreme' is invalid" in w for w in loaded.warnings)


def test_standard_anthropic_variables_are_honoured(workspace: Path, user_config: Path) -> None:
    environ = {"ANTHROPIC_API_KEY": "sk-ant-secret", "ANTHROPIC_BASE_URL": "http://127.0.0.1:9"}
    settings = load_settings(workspace, environ=environ, user_config=user_config).settings
    assert settings.model.api_key is not None
    assert settings.model.api_key.get_secret_value() == "sk-ant-secret"
    assert settings.model.base_url == "http://127.0.0.1:9"
    assert "sk-ant-secret" not in repr(settings)


def test_env_json_values_are_parsed(workspace: Path, user_config: Path) -> None:
    environ = {"AGENTLS_DIAGNOSTICS__LANGUAGES": '["python", "go"]'}
    settings = load_settings(workspace, environ=environ, user_config=user_config).settings
    assert settings.diagnostics.languages == ["python", "go"]


def test_a_bad_value_falls_back_to_the_layer_below(workspace: Path, user_config: Path) -> None:
    (workspace / "agentls.toml").write_text("[diagnostics]\ndebounce_ms = 20\n")
    editor = {"diagnostics": {"debounceMs": "soon", "enabled": False}, "review": "sometimes"}
    loaded = load_settings(workspace, editor, {}, user_config)
    assert loaded.settings.diagnostics.debounce_ms == 20  # editor's bad value dropped
    assert loaded.settings.diagnostics.enabled is False  # its good sibling kept
    assert loaded.settings.review == "inline"
    assert len(loaded.warnings) == 2
    assert any("editor settings" in w and "diagnostics.debounce_ms" in w for w in loaded.warnings)


def test_unknown_keys_warn(workspace: Path, user_config: Path) -> None:
    loaded = load_settings(workspace, {"modle": {"name": "x"}}, {}, user_config)
    assert loaded.warnings == ["editor settings: unknown setting 'modle' ignored"]


def test_a_broken_toml_file_is_reported_and_skipped(workspace: Path, user_config: Path) -> None:
    (workspace / "agentls.toml").write_text("[model\nname = ")
    loaded = load_settings(workspace, environ={}, user_config=user_config)
    assert loaded.settings.model.name == DEFAULT_MODEL
    assert len(loaded.warnings) == 1
    assert "workspace config" in loaded.warnings[0]
    assert "could not be read" in loaded.warnings[0]


def test_a_bad_api_key_value_is_never_echoed(workspace: Path, user_config: Path) -> None:
    loaded = load_settings(workspace, {"model": {"apiKey": ["sk-ant-oops"]}}, {}, user_config)
    assert loaded.warnings
    assert all("sk-ant-oops" not in w for w in loaded.warnings)


def test_a_null_editor_setting_is_unset(workspace: Path, user_config: Path) -> None:
    """VS Code sends every contributed setting, null when the user set none."""
    editor = {"model": {"name": None, "maxTokens": None, "effort": None, "thinking": None}, "review": "confirm"}
    loaded = load_settings(workspace, editor, {}, user_config)
    assert loaded.warnings == []
    assert (loaded.settings.model.name, loaded.settings.review) == (DEFAULT_MODEL, "confirm")
