---Options for agentls.nvim: the defaults, and the merged options in use.
local M = {}

---@class agentls.Keymaps
---@field accept string|false accept the hunk under the cursor
---@field reject string|false reject the hunk under the cursor
---@field next string|false jump to the next pending hunk
---@field prev string|false jump to the previous pending hunk
---@field next_file string|false open the next file with pending changes
---@field prev_file string|false open the previous file with pending changes
---@field edit string|false `:AgentEdit` on the current line or visual selection

---@class agentls.Options
---@field cmd string[] how to start the server
---@field cmd_env? table<string, string> extra environment for the server
---@field filetypes string[] filetypes the server attaches to
---@field root_markers string[] files or directories that mark a workspace root (else the cwd)
---@field settings table the editor layer of the agentls configuration (see README, "Configuration")
---@field keymaps agentls.Keymaps|false buffer-local keymaps set when the server attaches; false for none
---@field progress boolean a small float at the bottom-right shows what the agent is doing (the end is one vim.notify either way)
---@field signs {delete: string, add: string, conflict: string} signs and markers of removed, added and conflicting lines
---@field sign? string old name of `signs.delete`
---@field write_before_restore boolean write modified workspace buffers before a checkpoint restore and the restored ones after, so the safety checkpoint holds your text

---@type agentls.Options
M.defaults = {
  cmd = { "agentls", "serve" },
  cmd_env = nil,
  filetypes = {
    "python", "javascript", "javascriptreact", "typescript", "typescriptreact", "go", "rust", "lua",
    "java", "ruby", "c", "cpp", "json", "toml", "yaml", "sh", "bash", "html", "css", "markdown",
  },
  root_markers = { ".git", "agentls.toml", "pyproject.toml", "package.json", "go.mod", "Cargo.toml" },
  settings = {},
  keymaps = {
    accept = "<leader>aa",
    reject = "<leader>ar",
    next = "]a",
    prev = "[a",
    next_file = "]A",
    prev_file = "[A",
    edit = "<leader>ae",
  },
  progress = true,
  signs = { delete = "-", add = "+", conflict = "!" },
  write_before_restore = true,
}

---@type agentls.Options
M.options = vim.deepcopy(M.defaults)

---@param opts? table user options, merged over the defaults
---@return agentls.Options
function M.set(opts)
  opts = opts or {}
  local merged = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts)
  -- Lists replace the defaults rather than merging index by index.
  for _, key in ipairs({ "cmd", "filetypes", "root_markers" }) do
    if opts[key] ~= nil then
      merged[key] = opts[key]
    end
  end
  if opts.keymaps == false then
    merged.keymaps = false
  end
  if opts.sign and not (opts.signs and opts.signs.delete) then
    merged.signs.delete = opts.sign
  end
  M.options = merged
  return merged
end

---How to install the server, as the README says (shown when `cmd` is not executable and by :checkhealth).
M.install_hint = "install the server with `python3 -m pip install .` in the agentls checkout, or point `cmd` at it: "
  .. "require('agentls').setup({ cmd = { '/path/to/.venv/bin/agentls', 'serve' } })"

---The command prefix to run the agentls CLI (the server command without its trailing `serve`).
---@return string[]
function M.cli()
  local cmd = vim.deepcopy(M.options.cmd)
  if cmd[#cmd] == "serve" then
    table.remove(cmd)
  end
  return cmd
end

return M
