-- Drives agentls.nvim in a headless Neovim for tests/e2e/test_neovim.py.
-- Environment: NVIM_AGENTLS_TEST_PLUGIN (the plugin dir), NVIM_AGENTLS_TEST_PYTHON (python running the server),
-- NVIM_AGENTLS_TEST_FILE (the file to edit), NVIM_AGENTLS_TEST_SCENARIO, NVIM_AGENTLS_TEST_RESULT (JSON written here).
local env = vim.env
vim.opt.runtimepath:prepend(env.NVIM_AGENTLS_TEST_PLUGIN)
vim.cmd("filetype on")
vim.cmd("runtime plugin/agentls.lua")
vim.o.columns = 100

local result = { notifications = {}, data = {} }

local real_notify = vim.notify
vim.notify = function(msg, level, opts)
  table.insert(result.notifications, { msg = msg, level = level or vim.log.levels.INFO })
end

-- What reached the command line (progress reports), and whether it went to the message history.
result.echoes = {}
local real_echo = vim.api.nvim_echo
vim.api.nvim_echo = function(chunks, history, opts)
  local text = table.concat(vim.tbl_map(function(chunk) return chunk[1] end, chunks))
  table.insert(result.echoes, { text = text, history = history, status = require("agentls").status() })
  return real_echo(chunks, history, opts)
end

local TIMEOUT = 20000

---@param cond fun(): any
---@param what string
local function wait(cond, what)
  if not vim.wait(TIMEOUT, function()
    local ok, value = pcall(cond)
    return ok and value
  end, 20) then
    error("timed out waiting for " .. what, 2)
  end
end

local function lines(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr or 0, 0, -1, false), "\n") .. "\n"
end

local proposals, commands

local function open(opts)
  require("agentls").setup(vim.tbl_extend("force",
    { cmd = { env.NVIM_AGENTLS_TEST_PYTHON, "-m", "agentls", "serve" }, keymaps = false }, opts or {}))
  proposals = require("agentls.proposals")
  commands = require("agentls.commands")
  -- What the progress float showed, each time it was drawn, with the statusline line.
  local status = require("agentls.status")
  local draw = status.draw
  result.floats = {}
  status.draw = function()
    draw()
    local win = status.window()
    if win then
      local cfg = vim.api.nvim_win_get_config(win)
      table.insert(result.floats, {
        lines = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false),
        anchor = cfg.anchor, relative = cfg.relative, focusable = cfg.focusable,
        statusline = require("agentls").status(),
      })
    end
  end
  vim.cmd.edit(env.NVIM_AGENTLS_TEST_FILE)
  local bufnr = vim.api.nvim_get_current_buf()
  wait(function()
    return require("agentls.lsp").client(bufnr) and #vim.lsp.get_clients({ bufnr = bufnr }) > 0
      and vim.lsp.get_clients({ bufnr = bufnr })[1].initialized
  end, "the server to attach")
  result.data.encoding = vim.lsp.get_clients({ bufnr = bufnr })[1].offset_encoding
  return bufnr
end

---The rendered state of the pending hunks: rows, highlight, sign, virtual lines.
local function snapshot(bufnr)
  local out = {}
  for _, hunk in ipairs(proposals.list(bufnr)) do
    local first, stop = proposals.rows(hunk)
    local mark = vim.api.nvim_buf_get_extmark_by_id(bufnr, proposals.ns, hunk.mark, { details = true })
    local virt, markers = {}, {}
    local virt_row
    local vm = hunk.virt and vim.api.nvim_buf_get_extmark_by_id(bufnr, proposals.ns, hunk.virt, { details = true })
      or (hunk.insertion and mark)
    if vm and vm[3].virt_lines then
      virt_row = vm[1]
      for _, chunks in ipairs(vm[3].virt_lines) do
        local text, marker = {}, ""
        for _, chunk in ipairs(chunks) do
          if chunk[2] == "AgentlsAddSign" then
            marker = vim.trim(chunk[1])
          else
            text[#text + 1] = chunk[1]
            result.data.virt_hl = chunk[2]
          end
        end
        virt[#virt + 1] = vim.trim(table.concat(text))
        markers[#markers + 1] = marker
      end
    end
    local sign_rows = {}
    for _, m in ipairs(vim.api.nvim_buf_get_extmarks(bufnr, proposals.ns, 0, -1, { details = true, type = "sign" })) do
      if m[4].sign_text and hunk.sign == m[1] then
        for r = m[2], m[4].end_row or m[2] do
          sign_rows[#sign_rows + 1] = r
        end
      end
    end
    out[#out + 1] = {
      id = hunk.id, first = first, stop = stop, hl = mark[3].hl_group,
      sign = hunk.sign and vim.api.nvim_buf_get_extmark_by_id(bufnr, proposals.ns, hunk.sign, { details = true })[3].sign_text,
      sign_rows = sign_rows, virt_row = virt_row, virt = virt, markers = markers, state = hunk.state,
    }
  end
  return out
end

---The hint texts at the end of lines (row -> text).
local function hints(bufnr)
  local out = {}
  for _, m in ipairs(vim.api.nvim_buf_get_extmarks(bufnr, require("agentls.render").hint_ns, 0, -1, { details = true })) do
    out[#out + 1] = { row = m[2], text = vim.trim(m[4].virt_text[1][1]) }
  end
  return out
end

local function edit_and_wait(bufnr, count)
  vim.cmd("1,6AgentEdit add type hints")
  wait(function()
    return #proposals.list(bufnr) >= count
  end, "the proposal")
end

local function cursor(row)
  vim.api.nvim_win_set_cursor(0, { row, 0 })
end

local scenarios = {}

function scenarios.accept_reject()
  local bufnr = open()
  edit_and_wait(bufnr, 2)
  result.data.rendered = snapshot(bufnr)
  result.data.text_while_pending = lines(bufnr)
  result.data.all_marks = #vim.api.nvim_buf_get_extmarks(bufnr, proposals.ns, 0, -1, {})
  cursor(1)
  proposals.refresh(bufnr)
  result.data.hints = hints(bufnr)
  -- What is drawn when the accepted text lands in the buffer: the hunk's new lines must not show twice.
  result.data.virt_when_applied = nil
  vim.api.nvim_buf_attach(bufnr, false, { on_lines = function()
    if result.data.virt_when_applied == nil and lines(bufnr):find("def add%(a: int") then
      local n = 0
      for _, m in ipairs(vim.api.nvim_buf_get_extmarks(bufnr, proposals.ns, 0, -1, { details = true })) do
        for _, chunks in ipairs(m[4].virt_lines or {}) do
          for _, chunk in ipairs(chunks) do
            if chunk[1]:find("def add(a: int", 1, true) then
              n = n + 1
            end
          end
        end
      end
      result.data.virt_when_applied = n
    end
  end })
  vim.cmd("AgentAccept")
  wait(function()
    return #proposals.list(bufnr) == 1 and lines(bufnr):find("def add%(a: int")
  end, "the accepted hunk")
  result.data.after_accept = snapshot(bufnr)
  vim.cmd("AgentNext")
  result.data.next_row = vim.api.nvim_win_get_cursor(0)[1]
  vim.cmd("AgentReject")
  wait(function()
    return #proposals.list(bufnr) == 0
  end, "the rejection")
  vim.wait(200)
  result.data.final = lines(bufnr)
  result.data.marks_left = #vim.api.nvim_buf_get_extmarks(bufnr, proposals.ns, 0, -1, {})
end

function scenarios.type_above()
  local bufnr = open()
  edit_and_wait(bufnr, 2)
  result.data.before = snapshot(bufnr)
  vim.api.nvim_buf_set_lines(bufnr, 0, 0, false, { "import math", "" })
  result.data.after_typing = snapshot(bufnr)
  cursor(7) -- the second hunk, moved down two lines
  vim.cmd("AgentAccept")
  wait(function()
    return #proposals.list(bufnr) == 1 and lines(bufnr):find("def sub%(a: int")
  end, "the accepted hunk")
  vim.cmd("AgentAccept!")
  wait(function()
    return #proposals.list(bufnr) == 0 and lines(bufnr):find("def add%(a: int")
  end, "accept all")
  result.data.final = lines(bufnr)
end

function scenarios.cancel()
  local bufnr = open()
  vim.cmd("1,6AgentEdit add type hints")
  wait(function()
    return #commands.sessions > 0
  end, "the session to start")
  local cancelled
  commands.cancel(function(ids)
    cancelled = ids
  end)
  wait(function()
    return cancelled
  end, "the cancel answer")
  result.data.cancelled = cancelled
  vim.wait(1500)
  result.data.pending = #proposals.list(bufnr)
  result.data.final = lines(bufnr)
end

function scenarios.rollback()
  local bufnr = open()
  edit_and_wait(bufnr, 2)
  vim.cmd("AgentAccept!")
  wait(function()
    return #proposals.list(bufnr) == 0 and lines(bufnr):find("def sub%(a: int")
  end, "accept all")
  result.data.accepted = lines(bufnr)
  local restored
  commands.rollback({ args = "" }, function(r)
    restored = r
  end)
  wait(function()
    return restored
  end, "the restore")
  wait(function()
    return not lines(bufnr):find("a: int")
  end, "the buffer to be restored")
  result.data.restore = restored
  result.data.final = lines(bufnr)
  result.data.modified = vim.bo[bufnr].modified
end

function scenarios.fix()
  local bufnr = open()
  local ns = vim.api.nvim_create_namespace("test.linter")
  vim.diagnostic.set(ns, bufnr, { {
    lnum = 1, col = 11, end_lnum = 1, end_col = 16, source = "pyright",
    message = 'Operator "-" not expected here', severity = vim.diagnostic.severity.ERROR,
  } })
  cursor(2)
  vim.cmd("AgentFix")
  wait(function()
    return #proposals.list(bufnr) == 1
  end, "the fix proposal")
  result.data.rendered = snapshot(bufnr)
  vim.cmd("AgentAccept!")
  wait(function()
    return #proposals.list(bufnr) == 0 and lines(bufnr):find("a %+ b %+ 0")
  end, "the fix")
  result.data.final = lines(bufnr)
end

function scenarios.checkpoints_usage()
  local bufnr = open()
  edit_and_wait(bufnr, 2)
  vim.cmd("AgentAccept!")
  wait(function()
    return #proposals.list(bufnr) == 0 and lines(bufnr):find("def sub%(a: int")
  end, "accept all")
  vim.cmd("write") -- the checkpoint diff compares with the files on disk
  local asked = {}
  vim.ui.select = function(items, opts, on_choice)
    local shown = {}
    for _, item in ipairs(items) do
      shown[#shown + 1] = opts.format_item and opts.format_item(item) or item
    end
    table.insert(asked, { prompt = opts.prompt, items = shown })
    on_choice(opts.prompt == "Checkpoint" and items[1] or "Restore")
  end
  vim.cmd("AgentCheckpoints")
  wait(function()
    return #asked == 2 and not lines(bufnr):find("a: int")
  end, "the checkpoint restore")
  result.data.asked = asked
  local diff_buf
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_get_name(b):find("agentls://checkpoint/", 1, true) then
      diff_buf = b
    end
  end
  result.data.diff = diff_buf and lines(diff_buf)
  result.data.diff_ft = diff_buf and vim.bo[diff_buf].filetype
  result.data.final = lines(bufnr)
  vim.cmd("AgentUsage")
  wait(function()
    for _, n in ipairs(result.notifications) do
      if n.msg:find("total %$") then
        return true
      end
    end
  end, "the usage report")
end

-- A workspace's MCP server: Neovim asks to trust it (vim.ui.select, kind lsp_message), then its tool runs.
function scenarios.mcp_trust()
  local bufnr = open()
  result.data.asked = {}
  vim.ui.select = function(items, opts, on_choice)
    local shown = {}
    for _, item in ipairs(items) do
      shown[#shown + 1] = opts.format_item and opts.format_item(item) or item
    end
    table.insert(result.data.asked, { prompt = opts.prompt, items = shown, kind = opts.kind })
    for i, item in ipairs(items) do
      if item.title == "Trust and start" then
        return on_choice(item, i)
      end
    end
    on_choice(nil, nil)
  end
  edit_and_wait(bufnr, 2)
end

function scenarios.code_action()
  local bufnr = open()
  vim.ui.input = function(opts, on_confirm)
    result.data.prompt = opts.prompt
    on_confirm("add type hints")
  end
  vim.ui.select = function(items, opts, on_choice)
    result.data.titles = {}
    for i, item in ipairs(items) do
      local action = item.action or item[2] or item
      result.data.titles[i] = action.title
    end
    for i, item in ipairs(items) do
      local action = item.action or item[2] or item
      if action.title == "Edit with agent…" then
        return on_choice(item, i)
      end
    end
    on_choice(nil, nil)
  end
  vim.api.nvim_buf_set_mark(bufnr, "<", 1, 0, {})
  vim.api.nvim_buf_set_mark(bufnr, ">", 6, 0, {})
  vim.lsp.buf.code_action({ range = { start = { 1, 0 }, ["end"] = { 6, 0 } } })
  wait(function()
    return #proposals.list(bufnr) >= 2
  end, "the proposal from the code action")
  result.data.rendered = snapshot(bufnr)
end

function scenarios.health()
  require("agentls").setup({ cmd = { env.NVIM_AGENTLS_TEST_PYTHON, "-m", "agentls", "serve" } })
  vim.cmd("checkhealth agentls")
  result.data.health = vim.api.nvim_buf_get_lines(0, 0, -1, false)
end

-- :AgentDashboard with the OS opener stubbed (no browser here): what it was asked to open, and what a
-- browser gets there (the GET runs now, while the server and its dashboard run).
function scenarios.dashboard()
  open()
  result.data.opened = {}
  vim.ui.open = function(url)
    table.insert(result.data.opened, url)
    return nil, nil
  end
  vim.cmd("AgentDashboard")
  wait(function()
    return #result.data.opened > 0
  end, "vim.ui.open")
  local fetch = [[
import http.cookiejar, sys, urllib.error, urllib.request
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
try:
    print(opener.open(sys.argv[1], timeout=10).status)
except urllib.error.HTTPError as exc:
    print(exc.code)
]]
  local done = vim.system({ env.NVIM_AGENTLS_TEST_PYTHON, "-c", fetch, result.data.opened[1] }, { text = true }):wait(20000)
  result.data.status = vim.trim(done.stdout or "")
  result.data.fetch_stderr = done.stderr
end

-- More scenarios (tests/e2e/test_neovim_review.py) share these helpers.
local here = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
assert(loadfile(here .. "/review.lua"))({
  scenarios = scenarios, result = result, env = env, open = open, wait = wait, lines = lines,
  snapshot = snapshot, hints = hints, cursor = cursor, edit_and_wait = edit_and_wait,
})

vim.schedule(function()
  local ok, err = xpcall(scenarios[env.NVIM_AGENTLS_TEST_SCENARIO], debug.traceback)
  result.ok = ok
  result.error = not ok and tostring(err) or nil
  local f = assert(io.open(env.NVIM_AGENTLS_TEST_RESULT, "w"))
  f:write(vim.json.encode(result))
  f:close()
  for _, client in ipairs(vim.lsp.get_clients()) do
    if vim.fn.has("nvim-0.11") == 1 then client:stop() else client.stop() end
  end
  vim.wait(2000, function()
    return #vim.lsp.get_clients() == 0
  end)
  vim.cmd("qa!")
end)
