---What the user commands do (`plugin/agentls.lua` only defines them).
local lsp = require("agentls.lsp")
local config = require("agentls.config")
local proposals = require("agentls.proposals")

local M = {}

---Sessions started from this editor, newest last (for :AgentCancel).
---@type string[]
M.sessions = {}

---@param bufnr integer
---@return integer?
local function version(bufnr)
  local versions = vim.lsp.util.buf_versions
  return versions and versions[bufnr] or nil
end

---@param first integer 0-based first line
---@param last integer 0-based last line (inclusive)
---@return table an LSP range covering the whole lines
local function line_range(first, last)
  return { start = { line = first, character = 0 }, ["end"] = { line = last + 1, character = 0 } }
end

---@param result? table
local function started(result)
  if result and result.sessionId then
    table.insert(M.sessions, result.sessionId)
  end
end

---@param prompt string
---@param instruction? string
---@param callback fun(instruction: string)
local function with_instruction(prompt, instruction, callback)
  if instruction and vim.trim(instruction) ~= "" then
    callback(instruction)
    return
  end
  vim.ui.input({ prompt = prompt }, function(input)
    if input and vim.trim(input) ~= "" then
      callback(input)
    end
  end)
end

---`:AgentEdit {instruction}`: edit the range (or the current line) with the agent.
---@param opts {args?: string, range?: integer, line1?: integer, line2?: integer, bufnr?: integer}
function M.edit(opts)
  local bufnr = opts.bufnr or vim.api.nvim_get_current_buf()
  local first, last
  if opts.range and opts.range > 0 then
    first, last = opts.line1 - 1, opts.line2 - 1
  else
    first = vim.api.nvim_win_get_cursor(0)[1] - 1
    last = first
  end
  with_instruction("Agent instruction: ", opts.args, function(instruction)
    lsp.execute("agentls.edit", {
      uri = vim.uri_from_bufnr(bufnr),
      version = version(bufnr),
      range = line_range(first, last),
      instruction = instruction,
    }, started, bufnr)
  end)
end

---Leave Visual mode (the selection would stay drawn over the diff that comes).
local function leave_visual()
  if vim.fn.mode():match("^[vVsS\22\19]") then
    vim.api.nvim_feedkeys(vim.keycode("<Esc>"), "nx", false)
  end
end
M.leave_visual = leave_visual

---The range for "Edit with agent…": `:'<,'>lua vim.lsp.buf.code_action()` sends only the cursor, so when
---that command line ran over the last visual selection and the cursor is in it, the selection's lines.
---@param bufnr integer
---@param range? table the action's LSP range
---@return table?
function M.selection_range(bufnr, range)
  local one_line = range and (range["end"].line == range.start.line
    or (range["end"].line == range.start.line + 1 and range["end"].character == 0))
  if not one_line then
    return range
  end
  local from_cmdline = (vim.fn.histget(":", -1) or ""):match("^%s*'<%s*,%s*'>.*code_action")
  local first = vim.api.nvim_buf_get_mark(bufnr, "<")[1]
  local last = vim.api.nvim_buf_get_mark(bufnr, ">")[1]
  local row = range.start.line + 1
  if from_cmdline and first > 0 and last >= first and row >= first and row <= last then
    return line_range(first - 1, last - 1)
  end
  return range
end

---`agentls.edit` chosen from the code action menu. "Edit with agent…" carries no instruction (the
---server never prompts): ask for it here, then run the command.
---@param command lsp.Command
---@param ctx {bufnr: integer, client_id: integer}
function M.from_code_action(command, ctx)
  local args = vim.deepcopy((command.arguments or {})[1] or {})
  args.range = M.selection_range(ctx.bufnr, args.range)
  leave_visual()
  with_instruction("Agent instruction: ", args.instruction, function(instruction)
    args.instruction = instruction
    lsp.execute("agentls.edit", args, started, ctx.bufnr)
  end)
end

---`:AgentFix`: ask the agent to fix the diagnostics on the cursor line.
---@param opts? {bufnr?: integer}
function M.fix(opts)
  local bufnr = (opts and opts.bufnr) or vim.api.nvim_get_current_buf()
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local found = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr, { lnum = row })) do
    local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
    if code ~= "agentls.proposal" then
      found[#found + 1] = d
    end
  end
  if #found == 0 then
    vim.notify("agentls: no diagnostics under the cursor", vim.log.levels.INFO)
    return
  end
  local first, last = row, row
  local lines = { "Fix these diagnostics:" }
  for _, d in ipairs(found) do
    first = math.min(first, d.lnum)
    last = math.max(last, d.end_lnum or d.lnum)
    lines[#lines + 1] = ("- line %d: %s%s"):format(d.lnum + 1, d.message, d.source and (" (" .. d.source .. ")") or "")
  end
  lsp.execute("agentls.edit", {
    uri = vim.uri_from_bufnr(bufnr),
    version = version(bufnr),
    range = line_range(first, last),
    instruction = table.concat(lines, "\n"),
  }, started, bufnr)
end

---`:AgentTask {instruction}`: a multi-file session over the workspace, pointing at the current file.
---@param opts {args?: string}
function M.task(opts)
  local bufnr = vim.api.nvim_get_current_buf()
  local uris = vim.api.nvim_buf_get_name(bufnr) ~= "" and { vim.uri_from_bufnr(bufnr) } or nil
  with_instruction("Agent task: ", opts.args, function(instruction)
    lsp.execute("agentls.task", { instruction = instruction, uris = uris }, started, bufnr)
  end)
end

---`:AgentAccept[!]` / `:AgentReject[!]`: the hunk under the cursor, or with `!` all in the buffer.
---@param action "accept"|"reject"
---@param opts {bang?: boolean}
---@param callback? fun(results: table[])
function M.review(action, opts, callback)
  local bufnr = vim.api.nvim_get_current_buf()
  local hunks
  if opts.bang then
    hunks = proposals.list(bufnr)
  else
    local hunk = proposals.at(bufnr)
    hunks = hunk and { hunk } or {}
  end
  if #hunks == 0 then
    vim.notify("agentls: no pending agent change " .. (opts.bang and "in this buffer" or "under the cursor"))
    return
  end
  proposals.review(action, hunks, callback)
end

---`:AgentNext` / `:AgentPrev`: jump to the next / previous pending hunk.
---@param direction 1|-1
function M.jump(direction)
  local bufnr = vim.api.nvim_get_current_buf()
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local list = proposals.list(bufnr)
  if direction < 0 then
    list = vim.iter(list):rev():totable()
  end
  for _, hunk in ipairs(list) do
    local first = proposals.rows(hunk)
    if first and ((direction > 0 and first > row) or (direction < 0 and first < row)) then
      local target = math.min(first, vim.api.nvim_buf_line_count(bufnr) - 1)
      vim.api.nvim_win_set_cursor(0, { target + 1, 0 })
      proposals.refresh(bufnr)
      return
    end
  end
  -- None left this way here: on to the next file with pending changes ("]a to review" from anywhere).
  local current = vim.api.nvim_buf_get_name(bufnr)
  for _, file in ipairs(require("agentls.changes").files()) do
    if file ~= current then
      require("agentls.changes").jump_file(direction)
      return
    end
  end
  vim.notify("agentls: no more pending agent changes")
end

---`:AgentCancel`: cancel the sessions started from this editor that are still running.
---@param callback? fun(cancelled: string[])
function M.cancel(callback)
  local sessions = M.sessions
  M.sessions = {}
  if #sessions == 0 then
    vim.notify("agentls: no agent session to cancel")
    return
  end
  local cancelled, remaining = {}, #sessions
  for _, id in ipairs(sessions) do
    lsp.execute("agentls.cancel", { sessionId = id }, function(result)
      if result and result.cancelled then
        cancelled[#cancelled + 1] = id
      end
      remaining = remaining - 1
      if remaining == 0 then
        vim.notify(#cancelled > 0 and ("agentls: cancelled %s"):format(table.concat(cancelled, ", "))
          or "agentls: no session was running")
        if callback then
          callback(cancelled)
        end
      end
    end)
  end
end

---Write modified buffers of the workspace (so a safety checkpoint holds what the user sees).
---@param paths? string[] only these workspace-relative paths
local function write_buffers(paths)
  local client = lsp.client()
  local root = client and client.config.root_dir or vim.fn.getcwd()
  local wanted = paths and {} or nil
  for _, p in ipairs(paths or {}) do
    wanted[vim.fs.normalize(vim.fs.joinpath(root, p))] = true
  end
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    local name = vim.api.nvim_buf_get_name(bufnr)
    if name ~= "" and vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].modified and vim.bo[bufnr].buftype == ""
      and vim.startswith(vim.fs.normalize(name), root) and (not wanted or wanted[vim.fs.normalize(name)]) then
      vim.api.nvim_buf_call(bufnr, function()
        vim.cmd("silent! noautocmd update")
      end)
    end
  end
end

---Restore a checkpoint (open buffers change through `workspace/applyEdit`).
---@param id string
---@param callback? fun(result: table)
function M.restore(id, callback)
  if config.options.write_before_restore then
    write_buffers()
  end
  lsp.execute("agentls.checkpoints.restore", { id = id }, function(result)
    if config.options.write_before_restore then
      write_buffers(result.restored)
    end
    local n = #(result.restored or {}) + #(result.deleted or {}) + #(result.created or {})
    local name = M.checkpoint_names[id] and ("of " .. M.checkpoint_names[id]) or id
    vim.notify(("agentls: restored the checkpoint %s (%d file%s); undo with :AgentRollback %s"):format(
      name, n, n == 1 and "" or "s", result.safetyCheckpoint or "?"))
    if callback then
      callback(result)
    end
  end)
end

---`:AgentRollback [id]`: restore the given checkpoint, or the latest one.
---@param opts {args?: string}
---@param callback? fun(result: table)
function M.rollback(opts, callback)
  local id = opts.args and vim.trim(opts.args) or ""
  if id ~= "" then
    M.restore(id, callback)
    return
  end
  lsp.execute("agentls.checkpoints.list", { limit = 1 }, function(list)
    if not list or #list == 0 then
      vim.notify("agentls: no checkpoint to roll back to")
      return
    end
    M.checkpoint_names[list[1].id] = M.when(list[1])
    M.restore(list[1].id, callback)
  end)
end

---@param title string
---@param text string
---@param filetype string
---@return integer bufnr
local function scratch(title, text, filetype)
  vim.cmd("botright new")
  local bufnr = vim.api.nvim_get_current_buf()
  vim.bo[bufnr].buftype = "nofile"
  vim.bo[bufnr].bufhidden = "wipe"
  vim.bo[bufnr].swapfile = false
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, vim.split(text, "\n", { plain = true }))
  vim.bo[bufnr].modifiable = false
  vim.bo[bufnr].filetype = filetype
  pcall(vim.api.nvim_buf_set_name, bufnr, title)
  return bufnr
end

---How the user knows a checkpoint: "of 14:03:12 (accept)", by id (for the restore notice).
---@type table<string, string>
M.checkpoint_names = {}

---A checkpoint's time as people read it: the server's `when` ("14:03:12", "yesterday 14:03"), else the
---local time of its numeric field.
---@param c table a checkpoint from agentls.checkpoints.list
---@return string
function M.when(c)
  if type(c.when) == "string" and c.when ~= "" then
    return c.when
  end
  local t = tonumber(c.time or c.created or c.timestamp)
  if t then
    return os.date(os.date("%Y-%m-%d", t) == os.date("%Y-%m-%d") and "%H:%M:%S" or "%d %b %H:%M", t) --[[@as string]]
  end
  return tostring(c.time or "")
end

---@param c table a checkpoint from agentls.checkpoints.list
---@return string
function M.format_checkpoint(c)
  return ("%-15s %-7s %s  (%s)"):format(M.when(c), c.trigger or "", c.summary or table.concat(c.files or {}, ", "), c.id)
end

---`:AgentCheckpoints`: pick a checkpoint, see its diff against the files now, restore it if wanted.
function M.checkpoints()
  lsp.execute("agentls.checkpoints.list", {}, function(list)
    if not list or #list == 0 then
      vim.notify("agentls: no checkpoints yet")
      return
    end
    vim.ui.select(list, { prompt = "Checkpoint", format_item = M.format_checkpoint }, function(choice)
      if not choice then
        return
      end
      M.checkpoint_names[choice.id] = M.when(choice)
      lsp.execute("agentls.checkpoints.diff", { id = choice.id }, function(result)
        local diff = result and result.diff or ""
        if diff == "" then
          diff = "(no difference from your files now)"
        end
        scratch("agentls://checkpoint/" .. choice.id, diff, "diff")
        vim.ui.select({ "Restore", "Keep" }, { prompt = "Restore the checkpoint of " .. M.when(choice) .. "?" }, function(answer)
          if answer == "Restore" then
            M.restore(choice.id)
          end
        end)
      end)
    end)
  end)
end

---`:AgentUsage`: tokens and cost of recent sessions in this workspace.
function M.usage()
  lsp.execute("agentls.usage", { limit = 20 }, function(result)
    local lines = { ("agentls: total $%.4f"):format(result.totalCostUsd or 0) }
    for _, s in ipairs(result.sessions or {}) do
      lines[#lines + 1] = ("%s %-5s %-9s in %d out %d $%.4f  %s"):format(s.sessionId, s.kind or "", s.status or "",
        s.inputTokens or 0, s.outputTokens or 0, s.costUsd or 0, (s.instruction or ""):gsub("\n.*", "…"))
    end
    vim.notify(table.concat(lines, "\n"))
  end)
end

---`:AgentDashboard`: open the War Room (the server's `agentls dashboard`) in the browser. The URL (a
---one-time sign-in link) is always shown too: without a browser here (headless, ssh) it is to be copied.
function M.dashboard()
  lsp.execute("agentls.dashboard", {}, function(result)
    local url = type(result) == "table" and result.url or nil
    if type(url) ~= "string" or not url:match("^https?://") then
      vim.notify("agentls: the server answered no dashboard URL", vim.log.levels.ERROR)
      return
    end
    vim.notify("agentls: dashboard at " .. url)
    if not vim.ui.open then
      return -- Neovim < 0.10: the URL above is for the user to open
    end
    local ok, opened, err = pcall(vim.ui.open, url) -- (SystemObj?, error?); raises on some versions
    local problem = not ok and opened or err
    if problem then
      vim.notify(("agentls: could not open a browser (%s); open the URL above"):format(tostring(problem)),
        vim.log.levels.WARN)
    end
  end)
end

---Buffer-local keymaps (see `keymaps` in the options; false turns them all off).
---@param bufnr integer
function M.set_keymaps(bufnr)
  local keys = config.options.keymaps
  if not keys then
    return
  end
  local function map(mode, lhs, rhs, desc)
    if lhs then
      vim.keymap.set(mode, lhs, rhs, { buffer = bufnr, desc = desc, silent = true })
    end
  end
  map("n", keys.accept, "<cmd>AgentAccept<cr>", "agentls: accept the change under the cursor")
  map("n", keys.reject, "<cmd>AgentReject<cr>", "agentls: reject the change under the cursor")
  map("n", keys.next, "<cmd>AgentNext<cr>", "agentls: next agent change")
  map("n", keys.prev, "<cmd>AgentPrev<cr>", "agentls: previous agent change")
  map("n", keys.next_file, "<cmd>AgentNextFile<cr>", "agentls: next file with agent changes")
  map("n", keys.prev_file, "<cmd>AgentPrevFile<cr>", "agentls: previous file with agent changes")
  map("n", keys.edit, ":AgentEdit<cr>", "agentls: edit the line with the agent")
  map("x", keys.edit, ":AgentEdit<cr>", "agentls: edit the selection with the agent")
end

M.write_buffers = write_buffers

return M
