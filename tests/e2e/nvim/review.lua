-- Review scenarios for tests/e2e/test_neovim_review.py, loaded by run.lua with its helpers.
local T = ...
local S, result, env, wait, lines, cursor = T.scenarios, T.result, T.env, T.wait, T.lines, T.cursor

local function proposals()
  return require("agentls.proposals")
end

---Answer vim.ui.select with the item titled `title` (code actions), recording the titles.
local function pick(title)
  vim.ui.select = function(items, opts, on_choice)
    result.data.titles = {}
    for i, item in ipairs(items) do
      local action = item.action or item[2] or item
      result.data.titles[i] = type(action) == "table" and action.title or tostring(item)
    end
    for i, item in ipairs(items) do
      local action = item.action or item[2] or item
      if type(action) == "table" and action.title == title then
        return on_choice(item, i)
      end
    end
    on_choice(nil, nil)
  end
end

local function ended()
  for _, n in ipairs(result.notifications) do
    if n.msg:find("proposed") or n.msg:find("no changes") then
      return n.msg
    end
  end
end

function S.broken_cmd()
  local missing = vim.fs.joinpath(vim.fn.getcwd(), ".venv", "bin", "agentls")
  result.data.started = require("agentls").setup({ cmd = { missing, "serve" } })
  vim.cmd.edit(env.NVIM_AGENTLS_TEST_FILE)
  vim.wait(300)
  result.data.clients = #vim.lsp.get_clients()
  vim.cmd("checkhealth agentls")
  result.data.health = vim.api.nvim_buf_get_lines(0, 0, -1, false)
end

function S.help()
  vim.cmd("help agentls")
  result.data.help_file = vim.fs.basename(vim.api.nvim_buf_get_name(0))
  vim.cmd("help :AgentChanges")
  result.data.changes_line = vim.api.nvim_get_current_line()
end

-- `:'<,'>lua vim.lsp.buf.code_action()` after selecting lines 1-6: the code action gets only the cursor.
function S.cmdline_code_action()
  local bufnr = T.open()
  vim.ui.input = function(opts, on_confirm)
    result.data.prompt = opts.prompt
    on_confirm("add type hints")
  end
  pick("Edit with agent…")
  vim.cmd("normal! ggV5j\27") -- the user selected lines 1-6 and pressed `:`
  local line = "'<,'>lua vim.lsp.buf.code_action()"
  vim.fn.histadd(":", line)
  vim.cmd(line)
  wait(function()
    return #proposals().list(bufnr) >= 2
  end, "the proposal from the code action")
  result.data.rendered = T.snapshot(bufnr)
end

-- The code action menu from Visual mode: the user is back in Normal mode when the diff comes.
function S.visual_code_action()
  local bufnr = T.open()
  vim.ui.input = function(_, on_confirm)
    on_confirm("add type hints")
  end
  pick("Edit with agent…")
  vim.api.nvim_feedkeys("ggV5j", "x!", false)
  result.data.mode_before = vim.fn.mode()
  vim.lsp.buf.code_action()
  wait(function()
    return #proposals().list(bufnr) >= 2
  end, "the proposal from the code action")
  result.data.mode_after = vim.fn.mode()
end

function S.accept_at_end()
  -- What the server sent: its Hint diagnostics over the pending hunk (the client does not show them).
  local lsp = require("agentls.lsp")
  local on_diagnostics = lsp.on_diagnostics
  result.data.sent_hints = 0
  lsp.on_diagnostics = function(err, res, ctx, cfg)
    for _, d in ipairs(res and res.diagnostics or {}) do
      if d.code == "agentls.proposal" then
        result.data.sent_hints = result.data.sent_hints + 1
      end
    end
    return on_diagnostics(err, res, ctx, cfg)
  end
  local bufnr = T.open()
  vim.cmd("$AgentEdit add mul")
  wait(function()
    return #proposals().list(bufnr) >= 1
  end, "the proposal")
  result.data.rendered = T.snapshot(bufnr)
  local apply = vim.lsp.handlers["workspace/applyEdit"]
  vim.lsp.handlers["workspace/applyEdit"] = function(err, params, ctx)
    result.data.applied = params
    return apply(err, params, ctx)
  end
  wait(function()
    return result.data.sent_hints > 0
  end, "the server's hints")
  result.data.diagnostics = vim.tbl_map(function(d)
    return d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code) or d.message
  end, vim.diagnostic.get(bufnr))
  vim.cmd("AgentAccept!")
  wait(function()
    return #proposals().list(bufnr) == 0 and lines(bufnr):find("def mul")
  end, "the accept")
  vim.wait(100)
  result.data.final = lines(bufnr)
  vim.cmd("write")
end

-- A task changing two files and creating a third: the quickfix list, ]A, the new file.
function S.task_files()
  local bufnr = T.open({ keymaps = {} })
  vim.cmd("AgentTask type the helpers and test them")
  wait(ended, "the end of the session")
  result.data.ended = ended()
  wait(function()
    return #proposals().list(bufnr) >= 2
  end, "the proposal for calc.py")
  local items
  require("agentls.changes").quickfix(function(found)
    items = found
  end)
  wait(function()
    return items
  end, "the quickfix list")
  result.data.qf = vim.tbl_map(function(item)
    return { file = vim.fn.fnamemodify(vim.fn.bufname(item.bufnr), ":."), lnum = item.lnum, text = item.text }
  end, vim.fn.getqflist())
  result.data.qf_title = vim.fn.getqflist({ title = 1 }).title
  vim.cmd("cclose")
  vim.cmd.buffer(bufnr)
  cursor(1)
  vim.cmd("normal ]A") -- the keymap: the next file with changes, here the proposed new file
  local function here()
    return vim.fn.fnamemodify(vim.api.nvim_buf_get_name(0), ":.")
  end
  result.data.after_next_file = { file = here(), row = vim.api.nvim_win_get_cursor(0)[1] }
  local newbuf = vim.api.nvim_get_current_buf()
  wait(function()
    return #proposals().list(newbuf) == 1
  end, "the new file's proposal")
  result.data.new_file = T.snapshot(newbuf)
  result.data.new_text_before = lines(newbuf)
  vim.cmd("AgentAccept")
  wait(function()
    return #proposals().list(newbuf) == 0 and lines(newbuf):find("def test_double")
  end, "the new file")
  vim.wait(200)
  result.data.new_text = lines(newbuf)
  vim.cmd("write")
  vim.cmd("normal ]a") -- none left here: on to the next file
  result.data.after_next = { file = here(), row = vim.api.nvim_win_get_cursor(0)[1] }
  result.data.warnings = vim.tbl_map(function(n)
    return n.msg
  end, vim.tbl_filter(function(n)
    return n.level == vim.log.levels.WARN or n.level == vim.log.levels.ERROR
  end, result.notifications))
end

-- The user retypes a line of a pending hunk: a visible conflict, then forced.
function S.conflict()
  local bufnr = T.open()
  T.edit_and_wait(bufnr, 2)
  vim.api.nvim_buf_set_text(bufnr, 4, 4, 4, 7, { "subtract" })
  wait(function()
    for _, h in ipairs(proposals().list(bufnr)) do
      if h.state == "conflict" then
        return true
      end
    end
  end, "the conflict")
  result.data.rendered = T.snapshot(bufnr)
  cursor(5)
  proposals().refresh(bufnr)
  result.data.hints = T.hints(bufnr)
  vim.cmd("AgentDiff")
  result.data.diff_windows = #vim.tbl_filter(function(w)
    return vim.wo[w].diff
  end, vim.api.nvim_tabpage_list_wins(0))
  local right = vim.api.nvim_get_current_buf()
  result.data.diff_right = lines(right)
  vim.cmd("diffoff! | close")
  cursor(5)
  vim.cmd("AgentAccept")
  wait(function()
    return lines(bufnr):find("def sub%(a: int")
  end, "the forced accept")
  result.data.final = lines(bufnr)
end

-- Half of one edit accepted: the warning shows once, as one line.
function S.group_warning()
  local bufnr = T.open()
  vim.cmd("1,6AgentEdit use total")
  wait(function()
    return #proposals().list(bufnr) >= 2
  end, "the proposal")
  cursor(#vim.api.nvim_buf_get_lines(bufnr, 0, -1, false))
  local hunk = proposals().list(bufnr)[2]
  local first = proposals().rows(hunk)
  cursor(first + 1)
  local done
  require("agentls.commands").review("accept", {}, function()
    done = true
  end)
  wait(function()
    return done
  end, "the accept")
  vim.wait(300)
end

-- Typing, accept, typing, accept, roll back: the last accept undone, the typing kept.
function S.rollback_keeps_typing()
  local bufnr = T.open({ write_before_restore = false })
  T.edit_and_wait(bufnr, 2)
  vim.api.nvim_buf_set_lines(bufnr, -1, -1, false, { "# mine" })
  cursor(1)
  vim.cmd("AgentAccept")
  wait(function()
    return #proposals().list(bufnr) == 1 and lines(bufnr):find("def add%(a: int")
  end, "the first accept")
  vim.api.nvim_buf_set_lines(bufnr, 2, 2, false, { "# also mine" })
  cursor(6)
  vim.cmd("AgentAccept")
  wait(function()
    return #proposals().list(bufnr) == 0 and lines(bufnr):find("def sub%(a: int")
  end, "the second accept")
  result.data.accepted = lines(bufnr)
  local asked
  vim.ui.select = function(items, opts, on_choice)
    asked = { prompt = opts.prompt, items = vim.tbl_map(opts.format_item or tostring, items) }
    on_choice(nil)
  end
  vim.cmd("AgentCheckpoints")
  wait(function()
    return asked
  end, "the checkpoint list")
  result.data.asked = asked
  local restored
  require("agentls.commands").rollback({ args = "" }, function(r)
    restored = r
  end)
  wait(function()
    return restored and not lines(bufnr):find("def sub%(a: int")
  end, "the restore")
  result.data.final = lines(bufnr)
end

-- A retry shows in the float while it waits.
function S.retry()
  local bufnr = T.open()
  vim.cmd("1,6AgentEdit add type hints")
  wait(function()
    return #proposals().list(bufnr) >= 2 and ended()
  end, "the proposal")
end

-- A session that fails: one notification, one line, no hit-enter prompt.
function S.failure()
  T.open()
  vim.cmd("1,6AgentEdit add type hints")
  wait(function()
    for _, n in ipairs(result.notifications) do
      if n.level == vim.log.levels.ERROR then
        return true
      end
    end
  end, "the failure")
  vim.wait(500)
end

-- A proposal for a file type the server does not attach to (here: none of `filetypes`) is reviewed all the same.
function S.other_filetype()
  T.open({ filetypes = { "python" } })
  vim.cmd("AgentTask document the project")
  wait(function()
    return next(proposals().all)
  end, "the proposal")
  vim.cmd.edit("NOTES.md")
  local bufnr = vim.api.nvim_get_current_buf()
  wait(function()
    return #proposals().list(bufnr) == 1
  end, "the proposal drawn")
  result.data.attached = #vim.lsp.get_clients({ bufnr = bufnr })
  cursor(1)
  vim.cmd("AgentAccept")
  wait(function()
    return lines(bufnr):find("calc")
  end, "the accept")
  result.data.final = lines(bufnr)
end

-- Closing a buffer with pending hunks and opening the file again: the hunks are back.
function S.reopen()
  local bufnr = T.open()
  T.edit_and_wait(bufnr, 2)
  vim.cmd("bwipeout")
  vim.cmd.edit(env.NVIM_AGENTLS_TEST_FILE)
  local again = vim.api.nvim_get_current_buf()
  wait(function()
    return #proposals().list(again) == 2
  end, "the hunks drawn again")
  result.data.rendered = T.snapshot(again)
end
