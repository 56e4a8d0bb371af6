---`:checkhealth agentls`
local config = require("agentls.config")

local M = {}

---@param cmd string[]
---@return vim.SystemCompleted?
local function run(cmd)
  local ok, proc = pcall(vim.system, cmd, { text = true, env = config.options.cmd_env, timeout = 30000 })
  if not ok then
    return nil
  end
  return proc:wait()
end

function M.check()
  local health = vim.health
  health.start("agentls")

  if vim.fn.has("nvim-0.10") == 1 then
    health.ok("Neovim " .. tostring(vim.version()))
  else
    health.error("Neovim " .. tostring(vim.version()) .. " is too old", { "agentls.nvim needs Neovim >= 0.10" })
  end

  local cli = config.cli()
  local exe = vim.fn.exepath(cli[1])
  if exe == "" then
    health.error(("server command `%s` is not executable (cmd = %s)"):format(cli[1], vim.inspect(config.options.cmd)),
      { config.install_hint })
    return
  end
  health.ok("server executable: " .. exe)

  local version = run(vim.list_extend(vim.deepcopy(cli), { "--version" }))
  if version and version.code == 0 then
    health.ok("server version: " .. vim.trim(version.stdout or ""))
  else
    health.error("`" .. table.concat(cli, " ") .. " --version` failed", { version and version.stderr or "" })
  end

  local doctor = run(vim.list_extend(vim.deepcopy(cli), { "doctor", "--json" }))
  local ok, checks = pcall(vim.json.decode, doctor and doctor.stdout or "")
  if not ok or type(checks) ~= "table" then
    health.warn("`agentls doctor --json` gave no report", { doctor and doctor.stderr or "" })
    return
  end
  local by_name = {}
  for _, check in ipairs(checks) do
    by_name[check.name] = check
  end
  local key = by_name["api key"]
  if key and key.status == "ok" then
    health.ok("API key present") -- never printed
  else
    health.error("no Anthropic API key", { key and key.hint or "export ANTHROPIC_API_KEY=..." })
  end
  local grammars = by_name["grammars"]
  if grammars and grammars.status == "ok" then
    health.ok("grammars: " .. grammars.detail)
  elseif grammars then
    health.warn("grammars: " .. grammars.detail, { grammars.hint })
  end
  for _, name in ipairs({ "git", "ripgrep", "sandbox", "config" }) do
    local check = by_name[name]
    if check and check.status == "ok" then
      health.ok(name .. ": " .. check.detail)
    elseif check and check.status ~= "info" then
      health.warn(name .. ": " .. check.detail, { check.hint })
    end
  end
end

return M
