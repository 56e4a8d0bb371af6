---Pending agent proposals: their state, the notifications that carry them, accept and reject.
---
---Each pending hunk is drawn in place by `agentls.render` (old lines highlighted, new lines as virtual
---lines); extmarks follow the user's typing, and the server rebases the hunk itself at accept time. Every
---unresolved proposal is also kept by id (`M.all`, any file, loaded or not) for `:AgentChanges` and `]A`.
local lsp = require("agentls.lsp")
local render = require("agentls.render")

local M = {}

M.ns = render.ns

---Pending hunks per buffer.
---@type table<integer, agentls.Hunk[]>
M.hunks = {}

---Proposals for files that were not loaded when they arrived, by URI, then by proposal id.
---@type table<string, table<string, table>>
M.deferred = {}

---Every unresolved proposal as the server last sent it, by id.
---@type table<string, table>
M.all = {}

---Notify once per line (warnings repeat when a proposal is re-sent).
local told = {} ---@type table<string, boolean>
---@param msg string
---@param level? integer
local function tell_once(msg, level)
  if not told[msg] then
    told[msg] = true
    vim.notify(msg, level or vim.log.levels.WARN)
  end
end

---Forget a proposal's rendering in every buffer (it is drawn again, or resolved).
---@param proposal_id string
---@param ids? table<string, any> only these hunk ids
function M.resolve(proposal_id, ids)
  for bufnr, list in pairs(M.hunks) do
    for i = #list, 1, -1 do
      local hunk = list[i]
      if hunk.proposal == proposal_id and (not ids or ids[hunk.id]) then
        render.clear(hunk)
        table.remove(list, i)
      end
    end
    M.refresh(bufnr)
  end
  local proposal = M.all[proposal_id]
  if proposal and ids then
    proposal.hunks = vim.tbl_filter(function(h)
      return not ids[h.id]
    end, proposal.hunks or {})
    if #proposal.hunks == 0 then
      M.all[proposal_id] = nil
    end
  end
end

---Render a proposal (the `agentls/proposal` payload) in a loaded buffer.
---@param bufnr integer
---@param proposal table
function M.render(bufnr, proposal)
  M.hunks[bufnr] = M.hunks[bufnr] or {}
  for _, wire in ipairs(proposal.hunks or {}) do
    local state = wire.state or "pending"
    if state == "pending" or state == "conflict" then
      table.insert(M.hunks[bufnr], render.hunk(bufnr, proposal, wire))
    end
  end
  M.refresh(bufnr)
end

---Handler for the `agentls/proposal` notification. A proposal id seen before replaces its rendering.
---@param err? table
---@param proposal table
function M.on_proposal(err, proposal)
  if err or type(proposal) ~= "table" or not proposal.id then
    return
  end
  M.resolve(proposal.id)
  for _, waiting in pairs(M.deferred) do
    waiting[proposal.id] = nil
  end
  local live = vim.tbl_filter(function(h)
    return (h.state or "pending") == "pending" or h.state == "conflict"
  end, proposal.hunks or {})
  if #live == 0 then
    M.all[proposal.id] = nil
    return
  end
  M.all[proposal.id] = proposal
  local bufnr = vim.uri_to_bufnr(proposal.uri)
  if not vim.api.nvim_buf_is_loaded(bufnr) then
    M.deferred[proposal.uri] = M.deferred[proposal.uri] or {}
    M.deferred[proposal.uri][proposal.id] = proposal
    if not require("agentls.status").seen then -- else the session's end line says it for all files
      vim.notify(("agentls: %d change(s) proposed to %s (open it to review)"):format(#live, proposal.path or proposal.uri))
    end
  else
    M.render(bufnr, proposal)
  end
  for _, issue in ipairs(proposal.validation or {}) do
    tell_once(("agentls: %s still has a syntax error at line %d: %s"):format(
      proposal.path or vim.fs.basename(proposal.uri), issue.line + 1, issue.message))
  end
end

---Render proposals that arrived before their buffer was loaded.
---@param bufnr integer
function M.on_attach(bufnr)
  local group = vim.api.nvim_create_augroup("agentls.hunks." .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ "CursorMoved", "TextChanged", "InsertLeave" }, {
    group = group, buffer = bufnr,
    callback = function()
      if M.hunks[bufnr] and #M.hunks[bufnr] > 0 then
        M.refresh(bufnr)
      end
    end,
  })
  vim.api.nvim_create_autocmd("BufUnload", {
    group = group, buffer = bufnr,
    callback = function()
      -- Its proposals wait again for the file to open.
      M.hunks[bufnr] = nil
      local uri = vim.uri_from_bufnr(bufnr)
      for id, proposal in pairs(M.all) do
        if proposal.uri == uri then
          M.deferred[uri] = M.deferred[uri] or {}
          M.deferred[uri][id] = proposal
        end
      end
    end,
  })
  local uri = vim.uri_from_bufnr(bufnr)
  local waiting = M.deferred[uri]
  if waiting then
    M.deferred[uri] = nil
    for _, proposal in pairs(waiting) do
      M.render(bufnr, proposal)
    end
  end
end

local notices = {
  conflict = "your edits overlap it: not applied",
  stale = "your edits overlap it: dropped",
}

---Handler for the `agentls/proposalResolved` notification.
---@param err? table
---@param result table
function M.on_resolved(err, result)
  if err or type(result) ~= "table" then
    return
  end
  local states = {}
  local known = {}
  for _, list in pairs(M.hunks) do
    for _, hunk in ipairs(list) do
      known[hunk.proposal .. "|" .. hunk.id] = hunk
    end
  end
  for _, h in ipairs(result.hunks or {}) do
    if h.state ~= "pending" and h.state ~= "conflict" then
      states[h.id] = h.state
      if notices[h.state] then
        local hunk = known[(result.proposalId or "") .. "|" .. h.id]
        tell_once(("agentls: %s %s"):format(h.label or (hunk and render.name(hunk)) or "an agent change",
          notices[h.state]))
      end
    end
  end
  M.resolve(result.proposalId, states)
  if result.resolved then
    M.all[result.proposalId] = nil
    if M.deferred[result.uri] then
      M.deferred[result.uri][result.proposalId] = nil
    end
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

---The index and total of each hunk of a buffer (the server's, else by position), and the one under the cursor.
---@param bufnr integer
---@return {hunk: agentls.Hunk, first: integer, index: integer, total: integer}[]
function M.numbered(bufnr)
  local list = M.list(bufnr)
  local out = {}
  for i, hunk in ipairs(list) do
    out[#out + 1] = { hunk = hunk, first = (M.rows(hunk)), index = hunk.index or i, total = hunk.total or #list }
  end
  return out
end

---Redraw the hints of a buffer for the cursor ("2/4 · accept · reject · next" on the hunk under it).
---@param bufnr integer
function M.refresh(bufnr)
  if not vim.api.nvim_buf_is_valid(bufnr) then
    return
  end
  local current
  if vim.api.nvim_get_current_buf() == bufnr then
    current = M.at(bufnr)
  end
  render.hints(bufnr, M.numbered(bufnr), current)
end

---Accept or reject hunks: `agentls.accept` / `agentls.reject` per proposal. The server applies
---accepted hunks with `workspace/applyEdit` and answers with `agentls/proposalResolved`. Accepting a
---conflict hunk takes the agent's version (`force`). Each warning of the answer is shown once.
---@param action "accept"|"reject"
---@param hunks agentls.Hunk[]
---@param callback? fun(results: table[])
function M.review(action, hunks, callback)
  hunks = vim.tbl_filter(function(h)
    return not h.busy
  end, hunks)
  if #hunks == 0 then
    return
  end
  local batches, order = {}, {}
  for _, hunk in ipairs(hunks) do
    hunk.busy = true
    local force = action == "accept" and hunk.state == "conflict"
    local key = hunk.proposal .. (force and "|force" or "")
    if not batches[key] then
      batches[key] = { proposal = hunk.proposal, force = force, hunks = {} }
      order[#order + 1] = key
    end
    table.insert(batches[key].hunks, hunk)
    if action == "accept" then
      render.hide(hunk) -- the text changes before the answer comes
    end
  end
  local results, remaining = {}, #order
  for _, key in ipairs(order) do
    local batch = batches[key]
    local args = { proposalId = batch.proposal, hunkIds = vim.tbl_map(function(h)
      return h.id
    end, batch.hunks) }
    if batch.force then
      args.force = true
    end
    local function restore()
      for _, hunk in ipairs(batch.hunks) do
        hunk.busy = nil
        local first, stop = M.rows(hunk)
        if first and hunk.mark ~= 0 then
          render.draw(hunk, first, stop)
        end
      end
    end
    lsp.execute("agentls." .. action, args, function(result)
      result = result or {}
      results[#results + 1] = result
      local done = {}
      for _, field in ipairs({ "applied", "rejected" }) do
        for _, id in ipairs(result[field] or {}) do
          done[id] = field
        end
      end
      M.resolve(batch.proposal, done)
      for _, hunk in ipairs(batch.hunks) do
        if done[hunk.id] == "applied" and hunk.kind == "create" and vim.api.nvim_buf_is_valid(hunk.bufnr) then
          -- The new file's buffer is the file now: `:write` needs its directory.
          vim.fn.mkdir(vim.fs.dirname(vim.api.nvim_buf_get_name(hunk.bufnr)), "p")
        end
      end
      local conflicts = {}
      for _, hunk in ipairs(batch.hunks) do
        if vim.tbl_contains(result.conflicts or {}, hunk.id) then
          hunk.state = "conflict" -- the server re-sends it as a conflict; until then draw it so
          conflicts[#conflicts + 1] = render.name(hunk)
        end
      end
      restore()
      if #conflicts > 0 then
        vim.notify(("agentls: your edits overlap %s: not applied; %s again takes the agent's version, :AgentDiff compares")
          :format(table.concat(conflicts, ", "), render.key("accept", ":AgentAccept")), vim.log.levels.WARN)
      end
      for _, warning in ipairs(result.warnings or {}) do
        vim.notify("agentls: " .. warning, vim.log.levels.WARN)
      end
      for bufnr in pairs(M.hunks) do
        M.refresh(bufnr)
      end
      pcall(vim.cmd.redraw)
      remaining = remaining - 1
      if remaining == 0 and callback then
        callback(results)
      end
    end, batch.hunks[1].bufnr, restore)
  end
end

return M
