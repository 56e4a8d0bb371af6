---Starting the agentls server for workspace buffers, and talking to it.
local config = require("agentls.config")

local M = {}

M.name = "agentls"

---@param bufnr? integer
---@return vim.lsp.Client?
function M.client(bufnr)
  local clients = vim.lsp.get_clients({ name = M.name, bufnr = bufnr })
  if #clients == 0 and bufnr then
    clients = vim.lsp.get_clients({ name = M.name })
  end
  return clients[1]
end

---The workspace root for a buffer: the nearest root marker, else the current directory.
---@param bufnr integer
---@return string
function M.root(bufnr)
  return vim.fs.root(bufnr, config.options.root_markers) or vim.fn.getcwd()
end

---@param client vim.lsp.Client
---@param method string
---@param params table
---@param handler fun(err: lsp.ResponseError?, result: any)
---@param bufnr? integer
local function request(client, method, params, handler, bufnr)
  local function on_response(err, result)
    handler(err, result)
  end
  if vim.fn.has("nvim-0.11") == 1 then
    return client:request(method, params, on_response, bufnr)
  end
  return client.request(method, params, on_response, bufnr)
end

---Run an agentls command (`workspace/executeCommand` with one object argument).
---@param command string e.g. "agentls.accept"
---@param args table the command's argument object
---@param callback? fun(result: any) called with the result; errors are reported with vim.notify
---@param bufnr? integer
---@param on_error? fun(err: table) called (after the notice) when the request failed
function M.execute(command, args, callback, bufnr, on_error)
  local client = M.client(bufnr)
  if not client then
    vim.notify("agentls: the server is not running for this buffer", vim.log.levels.WARN)
    return
  end
  if next(args) == nil then
    args = vim.empty_dict() -- a JSON object, not []
  end
  request(client, "workspace/executeCommand", { command = command, arguments = { args } }, function(err, result)
    if err then
      vim.notify(("agentls: %s failed: %s"):format(command, err.message or tostring(err)), vim.log.levels.ERROR)
      if on_error then
        on_error(err)
      end
      return
    end
    if callback then
      callback(result)
    end
  end, bufnr)
end

---The LSP client configuration shared by `vim.lsp.config` and `vim.lsp.start`.
---@return table
function M.client_config()
  local proposals = require("agentls.proposals")
  local opts = config.options
  return {
    name = M.name,
    cmd = opts.cmd,
    cmd_env = opts.cmd_env,
    filetypes = opts.filetypes,
    -- An empty Lua table would go out as a JSON list.
    init_options = { inlineProposals = true, sessionStatus = true,
      settings = next(opts.settings or {}) and opts.settings or vim.empty_dict() },
    settings = { agentls = next(opts.settings or {}) and opts.settings or vim.empty_dict() },
    handlers = {
      ["agentls/proposal"] = proposals.on_proposal,
      ["agentls/proposalResolved"] = proposals.on_resolved,
      ["agentls/sessionStatus"] = require("agentls.status").on_status,
      ["textDocument/publishDiagnostics"] = M.on_diagnostics,
      ["workspace/applyEdit"] = M.on_apply_edit,
    },
  }
end

---`textDocument/publishDiagnostics` without the Hint diagnostics over pending proposals: this client draws
---them itself, and an underline over the removed lines only gets in the way.
---@param err? table
---@param result table
---@param ctx table
---@param cfg? table
function M.on_diagnostics(err, result, ctx, cfg)
  if type(result) == "table" and type(result.diagnostics) == "table" then
    result.diagnostics = vim.tbl_filter(function(d)
      return d.code ~= "agentls.proposal"
    end, result.diagnostics)
  end
  return vim.lsp.diagnostic.on_publish_diagnostics(err, result, ctx, cfg)
end

---Edits that add whole lines after the last line of a buffer, without their final line break: Neovim
---appends such an edit's text as lines, so a trailing "\n" would become an extra blank line at the end.
---@param edits lsp.TextEdit[]
---@param uri string
local function fix_appends(edits, uri)
  local bufnr = vim.uri_to_bufnr(uri)
  if not vim.api.nvim_buf_is_loaded(bufnr) then
    vim.fn.bufload(bufnr)
  end
  local count = vim.api.nvim_buf_line_count(bufnr)
  for _, e in ipairs(edits or {}) do
    if e.range and e.range.start.line >= count and e.range["end"].line >= count and type(e.newText) == "string"
      and e.newText:sub(-1) == "\n" then
      e.newText = e.newText:sub(1, -2)
    end
  end
end

---`workspace/applyEdit`, with appends at the end of a file fixed (see fix_appends).
---@param err? table
---@param params table
---@param ctx table
function M.on_apply_edit(err, params, ctx)
  local edit = type(params) == "table" and params.edit or nil
  if edit then
    for _, change in ipairs(edit.documentChanges or {}) do
      if change.textDocument and change.edits then
        fix_appends(change.edits, change.textDocument.uri)
      end
    end
    for uri, edits in pairs(edit.changes or {}) do
      fix_appends(edits, uri)
    end
  end
  return vim.lsp.handlers["workspace/applyEdit"](err, params, ctx)
end

---Whether the server command can run; if not, say so once, with the fix.
---@return boolean
function M.check_cmd()
  local cmd = config.options.cmd
  if type(cmd) ~= "table" or not cmd[1] then
    return true -- a function (an RPC client) or something vim.lsp checks itself
  end
  if vim.fn.executable(cmd[1]) == 1 then
    return true
  end
  vim.notify(("agentls: the server command `%s` is not executable, so the server cannot start; %s"):format(
    cmd[1], config.install_hint), vim.log.levels.ERROR)
  return false
end

local group = vim.api.nvim_create_augroup("agentls", { clear = true })

---The latest `$/progress` message of each running session, by token (see `M.status`).
---@type table<string, string>
M.progress = {}
local last_token ---@type string?

---One line for a statusline: what the agent is doing now (its turn, the tool it calls, the cost so far).
---@return string
function M.status()
  local line = require("agentls.status").line()
  if line then
    return line
  end
  local latest = last_token and M.progress[last_token] or select(2, next(M.progress))
  return latest and ("agentls: " .. latest) or ""
end

---Show a progress report where it does not pile up: the command line, without history, cut to fit
---(a message wider than the screen would ask for hit-enter and eat the user's keys).
---@param text string
local function echo(text)
  local width = math.max(vim.o.columns - 12, 20)
  if vim.fn.strdisplaywidth(text) > width then
    text = vim.fn.strcharpart(text, 0, width - 1) .. "…"
  end
  vim.api.nvim_echo({ { text, "Comment" } }, false, {})
end

---Show the server's `$/progress`: begin and end with vim.notify, each report (the model's thinking
---summary, the tool it calls) on the command line and in `M.status()`.
local background = {} ---@type table<string, boolean> progress tokens of background work (indexing)
local function progress_autocmd()
  vim.api.nvim_create_autocmd("LspProgress", {
    group = group,
    pattern = { "begin", "report", "end" },
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      if not client or client.name ~= M.name then
        return
      end
      local value = ev.data.params.value or {}
      local token = tostring(ev.data.params.token)
      if value.kind == "begin" then
        background[token] = (value.title or ""):find("indexing") ~= nil
      end
      if value.kind ~= "report" then
        M.progress[token] = value.kind == "begin" and (value.message or value.title) or nil
      elseif value.message and value.message ~= "" then
        M.progress[token], last_token = value.message, token
      end
      -- A server sending agentls/sessionStatus is shown by agentls.status; indexing only in status().
      if not config.options.progress or require("agentls.status").seen or background[token] then
        if value.kind == "end" then
          background[token] = nil
        end
        return
      end
      if value.kind == "report" then
        if value.message and value.message ~= "" then
          echo("agentls: " .. value.message)
          vim.cmd.redrawstatus() -- a statusline showing `status()` follows at once
        end
        return
      end
      local text = value.kind == "begin" and (value.title or "") .. (value.message and (": " .. value.message) or "")
        or (value.message or "done")
      text = vim.startswith(text, "agentls") and text or ("agentls: " .. text)
      -- The first agentls/sessionStatus may come just after the begin: show the begin only without one.
      vim.defer_fn(function()
        if not require("agentls.status").seen then
          vim.notify(text, vim.log.levels.INFO)
        end
      end, value.kind == "begin" and 300 or 0)
    end,
  })
end

---Start (0.10: `vim.lsp.start`) or enable (0.11+: `vim.lsp.config` / `vim.lsp.enable`) the server.
---@return boolean started whether the server could be set up (its command is executable)
function M.setup()
  vim.api.nvim_clear_autocmds({ group = group })
  if not M.check_cmd() then
    return false
  end
  progress_autocmd()
  -- Code actions run their command here first: "Edit with agent…" needs the user's instruction.
  vim.lsp.commands["agentls.edit"] = function(command, ctx)
    require("agentls.commands").from_code_action(command, ctx)
  end
  vim.api.nvim_create_autocmd("LspAttach", {
    group = group,
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      if client and client.name == M.name then
        require("agentls.commands").set_keymaps(ev.buf)
        require("agentls.proposals").on_attach(ev.buf)
      end
    end,
  })
  -- Proposals for a file whose type the server does not attach to are drawn when it opens all the same.
  vim.api.nvim_create_autocmd({ "BufReadPost", "BufNewFile" }, {
    group = group,
    callback = function(ev)
      local proposals = require("agentls.proposals")
      if next(proposals.deferred) and proposals.deferred[vim.uri_from_bufnr(ev.buf)] then
        vim.schedule(function()
          proposals.on_attach(ev.buf)
        end)
      end
    end,
  })
  local cfg = M.client_config()
  if vim.lsp.config and vim.lsp.enable then
    cfg.root_dir = function(bufnr, on_dir)
      if vim.bo[bufnr].buftype == "" and vim.api.nvim_buf_get_name(bufnr) ~= "" then
        on_dir(M.root(bufnr))
      end
    end
    vim.lsp.config(M.name, cfg)
    vim.lsp.enable(M.name)
  else
    vim.api.nvim_create_autocmd("FileType", {
      group = group,
      pattern = config.options.filetypes,
      callback = function(ev)
        if vim.bo[ev.buf].buftype ~= "" or vim.api.nvim_buf_get_name(ev.buf) == "" then
          return
        end
        local start_cfg = vim.deepcopy(cfg)
        start_cfg.filetypes = nil
        start_cfg.root_dir = M.root(ev.buf)
        vim.lsp.start(start_cfg, { bufnr = ev.buf })
      end,
    })
    -- Buffers already open when setup() ran (vim.lsp.enable does this itself).
    for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(config.options.filetypes, vim.bo[bufnr].filetype) then
        vim.api.nvim_exec_autocmds("FileType", { group = group, buffer = bufnr, modeline = false })
      end
    end
  end
  return true
end

return M
