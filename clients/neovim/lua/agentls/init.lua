---agentls.nvim: a client for the agentls language server (a coding agent behind LSP).
---
---```lua
---require("agentls").setup({ cmd = { "agentls", "serve" } })
---```
local M = {}

---Start or attach the server for workspace buffers, with inline proposals. A `cmd` that cannot run is
---reported here, with the fix.
---@param opts? agentls.Options|table see `:help agentls-options`
---@return boolean started
function M.setup(opts)
  if vim.fn.has("nvim-0.10") == 0 then
    vim.notify("agentls.nvim needs Neovim >= 0.10", vim.log.levels.ERROR)
    return false
  end
  require("agentls.config").set(opts)
  return require("agentls.lsp").setup()
end

---What the agent is doing now, for a statusline ("agentls · turn 2 · editing calc.py · $0.0123"); "" when idle.
---@return string
function M.status()
  return require("agentls.lsp").status()
end

---@param bufnr? integer
---@return table[] the pending hunks of the buffer (see agentls.proposals)
function M.pending(bufnr)
  return require("agentls.proposals").list(bufnr or vim.api.nvim_get_current_buf())
end

return M
