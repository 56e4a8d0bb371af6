---Every pending change across files: `:AgentChanges` (the quickfix list), `]A` / `[A` (next / previous file
---with pending changes) and `:AgentDiff` (the agent's version side by side with yours).
local lsp = require("agentls.lsp")
local proposals = require("agentls.proposals")
local render = require("agentls.render")

local M = {}

---@param uri string
---@return string
local function fname(uri)
  return vim.uri_to_fname(uri)
end

---Quickfix items for proposals (the `agentls.proposals` shape), in file then line order.
---@param list table[]
---@return table[]
function M.items(list)
  local items = {}
  for _, p in ipairs(list) do
    local live = vim.tbl_filter(function(h)
      return (h.state or "pending") == "pending" or h.state == "conflict"
    end, p.hunks or {})
    for i, h in ipairs(live) do
      local label = h.label or ("change %d of %d"):format(h.index or i, h.total or #live)
      if p.kind == "create" then
        label = label .. " (new file)"
      elseif p.kind == "delete" then
        label = label .. " (delete the file)"
      end
      if h.state == "conflict" then
        label = "conflict: " .. label
      end
      items[#items + 1] = {
        filename = fname(p.uri), lnum = h.range.start.line + 1,
        text = label .. (p.summary and p.summary ~= "" and (": " .. p.summary) or ""),
        type = h.state == "conflict" and "W" or nil,
      }
    end
  end
  table.sort(items, function(a, b)
    if a.filename ~= b.filename then
      return a.filename < b.filename
    end
    return a.lnum < b.lnum
  end)
  return items
end

---The proposals this editor knows of (for when the server cannot list them).
---@return table[]
local function known()
  return vim.tbl_values(proposals.all)
end

---All unresolved proposals: from the server (`agentls.proposals`), else the ones received here.
---@param callback fun(list: table[])
function M.fetch(callback)
  if not lsp.client() then
    callback(known())
    return
  end
  lsp.execute("agentls.proposals", {}, function(result)
    callback(result and result.proposals or known())
  end, nil, function()
    callback(known())
  end)
end

---`:AgentChanges`: every pending change (file, line, label) in the quickfix list, opened.
---@param callback? fun(items: table[])
function M.quickfix(callback)
  M.fetch(function(list)
    local items = M.items(list)
    vim.fn.setqflist({}, " ", { title = "agentls: pending changes", items = items })
    if #items == 0 then
      vim.notify("agentls: no pending agent changes")
    else
      vim.cmd("botright copen")
    end
    if callback then
      callback(items)
    end
  end)
end

---Files with pending changes (this editor's view), sorted.
---@return string[]
function M.files()
  local seen, out = {}, {}
  for _, p in pairs(proposals.all) do
    local f = fname(p.uri)
    if not seen[f] then
      seen[f] = true
      out[#out + 1] = f
    end
  end
  table.sort(out)
  return out
end

---Open a file and put the cursor on its first pending change.
---@param file string
---@param last? boolean the last change instead
function M.open(file, last)
  vim.cmd.edit(vim.fn.fnameescape(file))
  local bufnr = vim.api.nvim_get_current_buf()
  local function go()
    local list = proposals.list(bufnr)
    local hunk = list[last and #list or 1]
    local first = hunk and proposals.rows(hunk)
    if first then
      vim.api.nvim_win_set_cursor(0, { math.min(first, vim.api.nvim_buf_line_count(bufnr) - 1) + 1, 0 })
      proposals.refresh(bufnr)
      return true
    end
  end
  if not go() then
    -- The proposal is drawn once the server attaches to the new buffer.
    vim.wait(3000, go, 20)
  end
end

---`]A` / `[A`: the next / previous file with pending changes (wrapping around).
---@param direction 1|-1
---@return boolean moved
function M.jump_file(direction)
  local files = M.files()
  local current = vim.api.nvim_buf_get_name(0)
  local others = vim.tbl_filter(function(f)
    return f ~= current
  end, files)
  if #others == 0 then
    vim.notify("agentls: no other file has pending agent changes")
    return false
  end
  local target
  for i = 1, #files do
    local idx = direction > 0 and i or (#files - i + 1)
    local f = files[idx]
    if (direction > 0 and f > current) or (direction < 0 and f < current) then
      target = f
      break
    end
  end
  target = target or (direction > 0 and others[1] or others[#others])
  M.open(target, direction < 0)
  return true
end

---The buffer's text with some hunks applied (the agent's version, for a side-by-side diff).
---@param bufnr integer
---@param hunks agentls.Hunk[]
---@return string[]
function M.with_hunks(bufnr, hunks)
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  table.sort(hunks, function(a, b)
    return (proposals.rows(a) or 0) > (proposals.rows(b) or 0)
  end)
  for _, hunk in ipairs(hunks) do
    local first, stop = proposals.rows(hunk)
    if first then
      if #lines == 1 and lines[1] == "" and hunk.kind == "create" then
        lines = {}
        first, stop = 0, 0
      end
      local out = {}
      vim.list_extend(out, lines, 1, first)
      vim.list_extend(out, hunk.new_lines)
      vim.list_extend(out, lines, stop + 1, #lines)
      lines = out
    end
  end
  return lines
end

---`:AgentDiff`: your text and the agent's version side by side (`:diffthis`), for the change under the
---cursor (a conflict, say), or every pending change of the buffer when none is under it.
function M.diff()
  local bufnr = vim.api.nvim_get_current_buf()
  local hunk = proposals.at(bufnr)
  local hunks = hunk and { hunk } or proposals.list(bufnr)
  if #hunks == 0 then
    vim.notify("agentls: no pending agent change in this buffer")
    return
  end
  local lines = M.with_hunks(bufnr, hunks)
  local ft = vim.bo[bufnr].filetype
  local win = vim.api.nvim_get_current_win()
  vim.cmd("vertical rightbelow new")
  local scratch = vim.api.nvim_get_current_buf()
  vim.bo[scratch].buftype = "nofile"
  vim.bo[scratch].bufhidden = "wipe"
  vim.bo[scratch].swapfile = false
  vim.api.nvim_buf_set_lines(scratch, 0, -1, false, lines)
  vim.bo[scratch].modifiable = false
  vim.bo[scratch].filetype = ft
  pcall(vim.api.nvim_buf_set_name, scratch, ("agentls://proposed/%d/%s"):format(scratch,
    vim.fs.basename(vim.api.nvim_buf_get_name(bufnr))))
  vim.cmd("diffthis")
  vim.api.nvim_win_call(win, function()
    vim.cmd("diffthis")
  end)
  vim.notify(("agentls: the agent's version of %s on the right (:diffoff! and :close to leave)"):format(
    #hunks == 1 and render.name(hunks[1]) or (#hunks .. " changes")))
end

return M
