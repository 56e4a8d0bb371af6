---Pending agent proposals, rendered in place as an inline diff without touching the buffer text.
---
---Each pending hunk has a range extmark over its old lines (highlighted AgentlsDelete, with a sign)
---and its new lines as `virt_lines` (AgentlsAdd) below them (above the next line for a pure
---insertion). Extmarks follow the user's typing; the server rebases the hunk itself at accept time.
local lsp = require("agentls.lsp")
local config = require("agentls.config")

local M = {}

M.ns = vim.api.nvim_create_namespace("agentls.proposals")

---@class agentls.Hunk
---@field proposal string proposal id
---@field id string hunk id
---@field bufnr integer
---@field mark integer range extmark over the old lines (or the insertion point)
---@field virt? integer extmark carrying the new lines as virt_lines
---@field insertion boolean the hunk only adds lines
---@field new_lines string[]
---@field old_lines string[]
---@field busy? boolean an accept/reject for it is on its way

---Pending hunks per buffer, in buffer order of arrival.
---@type table<integer, agentls.Hunk[]>
M.hunks = {}

---Proposals for files that were not loaded when they arrived, by URI.
---@type table<string, table[]>
M.deferred = {}

local function set_highlights()
  vim.api.nvim_set_hl(0, "AgentlsDelete", { default = true, link = "DiffDelete" })
  vim.api.nvim_set_hl(0, "AgentlsAdd", { default = true, link = "DiffAdd" })
  vim.api.nvim_set_hl(0, "AgentlsSign", { default = true, link = "DiffChange" })
end
set_highlights()
vim.api.nvim_create_autocmd("ColorScheme", { callback = set_highlights })

---@param text string
---@return string[]
local function split_lines(text)
  if text == "" then
    return {}
  end
  local lines = vim.split(text, "\n", { plain = true })
  if lines[#lines] == "" then
    table.remove(lines)
  end
  return lines
end

---@param bufnr integer
---@param lines string[]
---@return table virt_lines for nvim_buf_set_extmark
local function virt_lines(bufnr, lines)
  local ts = vim.bo[bufnr].tabstop
  local width = math.max(vim.o.columns, 80)
  local out = {}
  for _, line in ipairs(lines) do
    local text = line:gsub("\t", string.rep(" ", ts))
    local pad = width - vim.fn.strdisplaywidth(text)
    out[#out + 1] = { { text .. string.rep(" ", math.max(pad, 0)), "AgentlsAdd" } }
  end
  return out
end

---@param bufnr integer
---@param hunk agentls.Hunk
local function clear_hunk(bufnr, hunk)
  pcall(vim.api.nvim_buf_del_extmark, bufnr, M.ns, hunk.mark)
  if hunk.virt then
    pcall(vim.api.nvim_buf_del_extmark, bufnr, M.ns, hunk.virt)
  end
end

---Render one hunk of a proposal in a buffer.
---@param bufnr integer
---@param proposal_id string
---@param wire table the hunk as the server sent it
---@return agentls.Hunk?
local function render_hunk(bufnr, proposal_id, wire)
  local count = vim.api.nvim_buf_line_count(bufnr)
  local range = wire.range
  local first = math.min(range.start.line, count)
  local stop = range["end"].line + ((range["end"].character or 0) > 0 and 1 or 0)
  stop = math.min(math.max(stop, first), count)
  local new_lines = split_lines(wire.newText or "")
  local hunk = {
    proposal = proposal_id,
    id = wire.id,
    bufnr = bufnr,
    insertion = stop == first,
    new_lines = new_lines,
    old_lines = split_lines(wire.oldText or ""),
  }
  local sign = { sign_text = config.options.sign, sign_hl_group = "AgentlsSign", priority = 200 }
  if hunk.insertion then
    local above = first < count
    local row = above and first or math.max(count - 1, 0)
    hunk.mark = vim.api.nvim_buf_set_extmark(bufnr, M.ns, row, 0, vim.tbl_extend("force", sign, {
      virt_lines = virt_lines(bufnr, new_lines),
      virt_lines_above = above,
    }))
  else
    hunk.mark = vim.api.nvim_buf_set_extmark(bufnr, M.ns, first, 0, vim.tbl_extend("force", sign, {
      end_row = stop,
      end_col = 0,
      hl_group = "AgentlsDelete",
      hl_eol = true,
      right_gravity = true,
      end_right_gravity = false,
    }))
    if #new_lines > 0 then
      hunk.virt = vim.api.nvim_buf_set_extmark(bufnr, M.ns, stop - 1, 0, {
        virt_lines = virt_lines(bufnr, new_lines),
      })
    end
  end
  return hunk
end

---Render a proposal (the `agentls/proposal` payload) in a loaded buffer.
---@param bufnr integer
---@param proposal table
function M.render(bufnr, proposal)
  M.hunks[bufnr] = M.hunks[bufnr] or {}
  for _, wire in ipairs(proposal.hunks or {}) do
    if (wire.state or "pending") == "pending" then
      local hunk = render_hunk(bufnr, proposal.id, wire)
      if hunk then
        table.insert(M.hunks[bufnr], hunk)
      end
    end
  end
end

---Handler for the `agentls/proposal` notification.
---@param err? table
---@param proposal table
function M.on_proposal(err, proposal)
  if err or type(proposal) ~= "table" then
    return
  end
  local bufnr = vim.uri_to_bufnr(proposal.uri)
  local pending = 0
  for _, h in ipairs(proposal.hunks or {}) do
    if (h.state or "pending") == "pending" then
      pending = pending + 1
    end
  end
  if not vim.api.nvim_buf_is_loaded(bufnr) then
    M.deferred[proposal.uri] = M.deferred[proposal.uri] or {}
    table.insert(M.deferred[proposal.uri], proposal)
    vim.notify(("agentls: %d change(s) proposed to %s (open it to review)"):format(pending, proposal.path or proposal.uri))
    return
  end
  M.render(bufnr, proposal)
  for _, issue in ipairs(proposal.validation or {}) do
    vim.notify(("agentls: the proposal still has a syntax error: %s (line %d)"):format(issue.message, issue.line + 1),
      vim.log.levels.WARN)
  end
end

---Render proposals that arrived before their buffer was loaded.
---@param bufnr integer
function M.on_attach(bufnr)
  local uri = vim.uri_from_bufnr(bufnr)
  local waiting = M.deferred[uri]
  if waiting then
    M.deferred[uri] = nil
    for _, proposal in ipairs(waiting) do
      M.render(bufnr, proposal)
    end
  end
end

local notices = {
  conflict = "your edits overlap it: not applied",
  stale = "your edits overlap it: dropped",
}

---Forget hunks (and clear their marks).
---@param proposal_id string
---@param ids table<string, string> hunk id -> new state
function M.resolve(proposal_id, ids)
  for bufnr, list in pairs(M.hunks) do
    for i = #list, 1, -1 do
      local hunk = list[i]
      if hunk.proposal == proposal_id and ids[hunk.id] then
        clear_hunk(bufnr, hunk)
        table.remove(list, i)
      end
    end
  end
end

---Handler for the `agentls/proposalResolved` notification.
---@param err? table
---@param result table
function M.on_resolved(err, result)
  if err or type(result) ~= "table" then
    return
  end
  local states = {}
  for _, h in ipairs(result.hunks or {}) do
    if h.state ~= "pending" then
      states[h.id] = h.state
      if notices[h.state] then
        vim.notify(("agentls: agent change %s %s"):format(h.id, notices[h.state]), vim.log.levels.WARN)
      end
    end
  end
  M.resolve(result.proposalId, states)
  if result.resolved and M.deferred[result.uri] then
    M.deferred[result.uri] = nil
  end
end

---The current position of a hunk: first and last-exclusive row of its old lines.
---@param hunk agentls.Hunk
---@return integer? start_row
---@return integer? end_row
function M.rows(hunk)
  local ok, mark = pcall(vim.api.nvim_buf_get_extmark_by_id, hunk.bufnr, M.ns, hunk.mark, { details = true })
  if not ok or not mark[1] then
    return nil
  end
  local details = mark[3] or {}
  if hunk.insertion then
    return mark[1], mark[1]
  end
  return mark[1], details.end_row or mark[1] + 1
end

---Pending hunks of a buffer, sorted by position.
---@param bufnr integer
---@return agentls.Hunk[]
function M.list(bufnr)
  local out = {}
  for _, hunk in ipairs(M.hunks[bufnr] or {}) do
    local start_row = M.rows(hunk)
    if start_row then
      out[#out + 1] = hunk
    end
  end
  table.sort(out, function(a, b)
    return (M.rows(a)) < (M.rows(b))
  end)
  return out
end

---The hunk under the cursor (its old lines, or the line its insertion or new lines sit at).
---@param bufnr integer
---@param row? integer 0-based; the cursor row by default
---@return agentls.Hunk?
function M.at(bufnr, row)
  row = row or (vim.api.nvim_win_get_cursor(0)[1] - 1)
  for _, hunk in ipairs(M.list(bufnr)) do
    local first, stop = M.rows(hunk)
    if first and ((row >= first and row < stop) or (hunk.insertion and row == first)) then
      return hunk
    end
  end
  return nil
end

---Accept or reject hunks: `agentls.accept` / `agentls.reject` per proposal. The server applies
---accepted hunks with `workspace/applyEdit` and answers with `agentls/proposalResolved`.
---@param action "accept"|"reject"
---@param hunks agentls.Hunk[]
---@param callback? fun(results: table[])
function M.review(action, hunks, callback)
  local by_proposal, order = {}, {}
  hunks = vim.tbl_filter(function(h)
    return not h.busy
  end, hunks)
  if #hunks == 0 then
    return
  end
  for _, hunk in ipairs(hunks) do
    hunk.busy = true
    if not by_proposal[hunk.proposal] then
      by_proposal[hunk.proposal] = {}
      order[#order + 1] = hunk.proposal
    end
    table.insert(by_proposal[hunk.proposal], hunk.id)
  end
  local results, remaining = {}, #order
  for _, proposal_id in ipairs(order) do
    lsp.execute("agentls." .. action, { proposalId = proposal_id, hunkIds = by_proposal[proposal_id] }, function(result)
      for _, hunk in ipairs(hunks) do
        hunk.busy = nil
      end
      results[#results + 1] = result
      local done = {}
      for _, key in ipairs({ "applied", "rejected", "conflicts" }) do
        for _, id in ipairs((result or {})[key] or {}) do
          done[id] = key
        end
      end
      M.resolve(proposal_id, done)
      if result and result.conflicts and #result.conflicts > 0 then
        vim.notify(("agentls: %d change(s) conflict with your edits and were not applied"):format(#result.conflicts),
          vim.log.levels.WARN)
      end
      remaining = remaining - 1
      if remaining == 0 and callback then
        callback(results)
      end
    end, hunks[1].bufnr, function()
      for _, hunk in ipairs(hunks) do
        if hunk.proposal == proposal_id then
          hunk.busy = nil
        end
      end
    end)
  end
end

return M
