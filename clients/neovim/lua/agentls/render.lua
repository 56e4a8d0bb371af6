---Drawing one pending hunk with extmarks, without touching the buffer text.
---
---A replaced hunk: its old lines highlighted (AgentlsDelete) with a `-` sign on those lines only, the new
---lines below them as virtual lines (AgentlsAdd) with a `+` in the gutter. A pure insertion: only the
---virtual lines. A conflict: the lines as you have them now (AgentlsConflict, `!`), a line saying what to do,
---then the agent's version. The hunk under the cursor shows "2/4" and the review keys at the end of its line.
local config = require("agentls.config")

local M = {}

M.ns = vim.api.nvim_create_namespace("agentls.proposals")
M.hint_ns = vim.api.nvim_create_namespace("agentls.hint")

local function set_highlights()
  local hl = function(name, link)
    vim.api.nvim_set_hl(0, name, { default = true, link = link })
  end
  hl("AgentlsDelete", "DiffDelete")
  hl("AgentlsAdd", "DiffAdd")
  hl("AgentlsDeleteSign", "Removed")
  hl("AgentlsAddSign", "Added")
  hl("AgentlsConflict", "DiffText")
  hl("AgentlsConflictSign", "WarningMsg")
  hl("AgentlsConflictText", "WarningMsg")
  hl("AgentlsHint", "Comment")
end
set_highlights()
vim.api.nvim_create_autocmd("ColorScheme", {
  group = vim.api.nvim_create_augroup("agentls.render", { clear = true }),
  callback = set_highlights,
})

---@param text string
---@return string[]
function M.split_lines(text)
  if text == "" then
    return {}
  end
  local lines = vim.split(text, "\n", { plain = true })
  if lines[#lines] == "" then
    table.remove(lines)
  end
  return lines
end

---The width of the columns left of the text (fold, sign and number columns) in the window showing the
---buffer: the `+` of an added line goes there, so the added text lines up with the buffer's.
---@param bufnr integer
---@param has_signs boolean this hunk places signs
---@return integer
local function gutter(bufnr, has_signs)
  local win = vim.fn.bufwinid(bufnr)
  if win == -1 then
    win = vim.api.nvim_get_current_win()
  end
  local wo = vim.wo[win]
  local width = tonumber(wo.foldcolumn) or 0
  local sc = wo.signcolumn
  local n = tonumber(sc:match(":(%d)")) or 1
  if sc:match("^yes") then
    width = width + 2 * n
  elseif sc:match("^auto") then
    local signs = has_signs or #vim.api.nvim_buf_get_extmarks(bufnr, -1, 0, -1, { type = "sign", limit = 1 }) > 0
    width = width + (signs and 2 or 0)
  end
  if wo.number or wo.relativenumber then
    width = width + math.max(wo.numberwidth, #tostring(vim.api.nvim_buf_line_count(bufnr)) + 1)
  end
  return width
end

---Virtual lines for added text: `+` in the gutter, the text, the rest of the line in AgentlsAdd.
---@param bufnr integer
---@param lines string[]
---@param head? table[] virtual lines to put first (a conflict's explanation)
---@param has_signs boolean
---@return table virt_lines
---@return boolean leftcol
local function added(bufnr, lines, head, has_signs)
  local ts = vim.bo[bufnr].tabstop
  local width = math.max(vim.o.columns, 80)
  local off = gutter(bufnr, has_signs)
  local marker = config.options.signs.add
  local out = {}
  for _, line in ipairs(head or {}) do
    out[#out + 1] = off > 0 and { { string.rep(" ", off), "" }, line[1] } or line
  end
  for _, line in ipairs(lines) do
    local text = line:gsub("\t", string.rep(" ", ts))
    local pad = width - vim.fn.strdisplaywidth(text)
    local chunks = {}
    if off >= 2 then
      chunks[1] = { marker .. string.rep(" ", off - vim.fn.strdisplaywidth(marker)), "AgentlsAddSign" }
    end
    chunks[#chunks + 1] = { text .. string.rep(" ", math.max(pad, 0)), "AgentlsAdd" }
    out[#out + 1] = chunks
  end
  return out, off >= 2
end

---@class agentls.Hunk
---@field proposal string proposal id
---@field id string hunk id
---@field bufnr integer
---@field wire table the hunk as the server sent it
---@field kind string the proposal's kind ("modify", "create", "delete")
---@field state "pending"|"conflict"
---@field index? integer 1-based, within its proposal (from the server)
---@field total? integer hunks in the proposal (from the server)
---@field label? string "change 2 of 4, line 25"
---@field mark integer range extmark over the old lines (or the insertion point)
---@field sign? integer extmark with the signs of the old lines
---@field virt? integer extmark carrying the new lines as virt_lines
---@field insertion boolean the hunk only adds lines
---@field new_lines string[]
---@field old_lines string[]
---@field busy? boolean an accept/reject for it is on its way

---The keys (as the user types them) of a review action, for hints.
---@param name string a keymaps field
---@param command string the command to show without a key
---@return string
function M.key(name, command)
  local keys = config.options.keymaps
  local lhs = keys and keys[name]
  if not lhs then
    return command
  end
  local leader = vim.g.mapleader or "\\"
  lhs = lhs:gsub("<[Ll]eader>", leader == " " and "␣" or leader)
  return lhs
end

---"ga accept" with a key, else the command (":AgentAccept").
---@param name string
---@param command string
---@param word string
---@return string
function M.action(name, command, word)
  local lhs = M.key(name, command)
  return lhs == command and command or (lhs .. " " .. word)
end

---Render one hunk of a proposal in a buffer.
---@param bufnr integer
---@param proposal table the proposal (id, kind)
---@param wire table the hunk as the server sent it
---@return agentls.Hunk
function M.hunk(bufnr, proposal, wire)
  local count = vim.api.nvim_buf_line_count(bufnr)
  local range = wire.range
  local first = math.min(range.start.line, count)
  local stop = range["end"].line + ((range["end"].character or 0) > 0 and 1 or 0)
  stop = math.min(math.max(stop, first), count)
  local conflict = wire.state == "conflict"
  ---@type agentls.Hunk
  local hunk = {
    proposal = proposal.id,
    id = wire.id,
    bufnr = bufnr,
    wire = wire,
    kind = proposal.kind or "modify",
    state = conflict and "conflict" or "pending",
    index = wire.index,
    total = wire.total,
    label = wire.label,
    insertion = stop == first,
    new_lines = M.split_lines(wire.newText or ""),
    old_lines = M.split_lines(wire.oldText or ""),
    mark = 0,
  }
  M.draw(hunk, first, stop)
  return hunk
end

---What a conflict hunk says above the agent's version.
---@param hunk agentls.Hunk
---@return string
function M.conflict_text(hunk)
  return ("conflict: your edit overlaps %s — %s to take the agent's version (force), %s to keep yours, "
    .. ":AgentDiff side by side"):format(M.name(hunk), M.key("accept", ":AgentAccept"), M.key("reject", ":AgentReject"))
end

---How messages name a hunk: the server's label, else "change 2 of 4".
---@param hunk agentls.Hunk
---@return string
function M.name(hunk)
  if hunk.label and hunk.label ~= "" then
    return hunk.label
  end
  if hunk.index and hunk.total then
    return ("change %d of %d"):format(hunk.index, hunk.total)
  end
  return "the agent's change"
end

---Draw (or redraw) a hunk's extmarks over rows [first, stop).
---@param hunk agentls.Hunk
---@param first integer
---@param stop integer
function M.draw(hunk, first, stop)
  M.clear(hunk, true)
  local bufnr = hunk.bufnr
  local count = vim.api.nvim_buf_line_count(bufnr)
  local conflict = hunk.state == "conflict"
  local signs = config.options.signs
  if hunk.insertion and not conflict then
    local above = first < count
    local row = above and first or math.max(count - 1, 0)
    -- An empty buffer (a proposed new file) shows the new text in place of its one empty line.
    local lines, leftcol = added(bufnr, hunk.new_lines, nil, false)
    hunk.mark = vim.api.nvim_buf_set_extmark(bufnr, M.ns, row, 0, {
      id = hunk.mark ~= 0 and hunk.mark or nil,
      virt_lines = lines, virt_lines_above = above, virt_lines_leftcol = leftcol,
    })
    return
  end
  hunk.mark = vim.api.nvim_buf_set_extmark(bufnr, M.ns, first, 0, {
    id = hunk.mark ~= 0 and hunk.mark or nil,
    end_row = stop, end_col = 0,
    hl_group = conflict and "AgentlsConflict" or "AgentlsDelete", hl_eol = true,
    right_gravity = true, end_right_gravity = false,
  })
  if stop > first then
    -- The sign on the hunk's own lines only: a range sign covers its end row too, so it ends on the last line.
    hunk.sign = vim.api.nvim_buf_set_extmark(bufnr, M.ns, first, 0, {
      end_row = stop - 1, end_col = 0, right_gravity = true, end_right_gravity = false, priority = 200,
      sign_text = conflict and signs.conflict or signs.delete,
      sign_hl_group = conflict and "AgentlsConflictSign" or "AgentlsDeleteSign",
    })
  end
  local head = conflict and { { { M.conflict_text(hunk), "AgentlsConflictText" } } } or nil
  if #hunk.new_lines > 0 or head then
    local lines, leftcol = added(bufnr, hunk.new_lines, head, stop > first)
    hunk.virt = vim.api.nvim_buf_set_extmark(bufnr, M.ns, math.max(stop - 1, first), 0, {
      virt_lines = lines, virt_lines_leftcol = leftcol,
    })
  end
end

---Remove a hunk's extmarks (keeping its position mark when `keep_mark`, for a redraw).
---@param hunk agentls.Hunk
---@param keep_mark? boolean
function M.clear(hunk, keep_mark)
  if not keep_mark and hunk.mark ~= 0 then
    pcall(vim.api.nvim_buf_del_extmark, hunk.bufnr, M.ns, hunk.mark)
  end
  for _, key in ipairs({ "sign", "virt" }) do
    if hunk[key] then
      pcall(vim.api.nvim_buf_del_extmark, hunk.bufnr, M.ns, hunk[key])
      hunk[key] = nil
    end
  end
end

---Hide what a hunk draws while its accept is on its way (the buffer changes before the answer comes:
---the new text would show twice, once real and once virtual).
---@param hunk agentls.Hunk
function M.hide(hunk)
  M.clear(hunk, true)
  local ok, mark = pcall(vim.api.nvim_buf_get_extmark_by_id, hunk.bufnr, M.ns, hunk.mark, { details = true })
  if ok and mark[1] then
    local d = mark[3]
    vim.api.nvim_buf_set_extmark(hunk.bufnr, M.ns, mark[1], mark[2], {
      id = hunk.mark, end_row = d.end_row, end_col = d.end_col,
      right_gravity = d.right_gravity, end_right_gravity = d.end_right_gravity,
    })
  end
end

---The hint on the current hunk ("2/4 · ga accept · gr reject · ]a next"), and "2/4" on the others.
---@param bufnr integer
---@param list {hunk: agentls.Hunk, first: integer, index: integer, total: integer}[]
---@param current? agentls.Hunk
function M.hints(bufnr, list, current)
  vim.api.nvim_buf_clear_namespace(bufnr, M.hint_ns, 0, -1)
  local count = vim.api.nvim_buf_line_count(bufnr)
  for _, item in ipairs(list) do
    local text = ("%d/%d"):format(item.index, item.total)
    if item.hunk == current then
      local accept = item.hunk.state == "conflict" and "take the agent's" or "accept"
      text = ("%s · %s · %s · %s"):format(text, M.action("accept", ":AgentAccept", accept),
        M.action("reject", ":AgentReject", "reject"), M.action("next", ":AgentNext", "next"))
    end
    local row = math.min(item.first, count - 1)
    vim.api.nvim_buf_set_extmark(bufnr, M.hint_ns, row, 0, {
      virt_text = { { "  " .. text, "AgentlsHint" } }, virt_text_pos = "eol", hl_mode = "combine",
    })
  end
end

return M
