---What the agent is doing, from `agentls/sessionStatus`: a small float at the bottom-right (modes and
---messages cannot overwrite it), a statusline line (`require("agentls").status()`), and one notification at
---the end ("4 changes proposed in 2 files: ]a to review", or the one failure line).
local config = require("agentls.config")

local M = {}

---The latest status of each session, by id; sessions that ended are removed.
---@type table<string, table>
M.sessions = {}
---Whether the server sends `agentls/sessionStatus` (then `$/progress` is not shown as well).
M.seen = false

local win, buf ---@type integer?, integer?
local order = {} ---@type string[] session ids, oldest first

---@param s string
---@param width integer
---@return string
local function cut(s, width)
  s = (s or ""):gsub("%s*\n%s*", " ")
  if vim.fn.strdisplaywidth(s) <= width then
    return s
  end
  return vim.fn.strcharpart(s, 0, width - 1) .. "…"
end

---@param n number
---@return string
local function thousands(n)
  local s = tostring(math.floor(n or 0))
  return (s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", ""))
end

---The lines the float shows for one session (the thinking sentence as `{thinking = ...}`: it wraps).
---@param s table an `agentls/sessionStatus` payload
---@return (string|{thinking: string})[]
function M.lines(s)
  local out = {}
  local head = "agentls"
  if s.turn and s.turn > 0 then
    head = head .. (" · turn %d"):format(s.turn)
  end
  local title = (s.title or ""):gsub("^agentls:?%s*", "")
  out[#out + 1] = head .. (title ~= "" and (" · " .. title) or "")
  out[#out + 1] = (s.activity and s.activity ~= "") and s.activity or "thinking"
  if s.thinking and s.thinking ~= "" then
    out[#out + 1] = { thinking = "“" .. s.thinking .. "”" }
  end
  out[#out + 1] = ("%s tokens · $%.4f"):format(thousands(s.tokens or 0), s.cost or 0)
  return out
end

---One line for a statusline: the newest running session's activity ("" when idle).
---@return string?
function M.line()
  local id = order[#order]
  local s = id and M.sessions[id]
  if not s then
    return nil
  end
  local parts = { "agentls" }
  if s.turn and s.turn > 0 then
    parts[#parts + 1] = ("turn %d"):format(s.turn)
  end
  parts[#parts + 1] = (s.activity and s.activity ~= "") and s.activity or "thinking"
  parts[#parts + 1] = ("$%.4f"):format(s.cost or 0)
  return table.concat(parts, " · ")
end

local function close()
  if win and vim.api.nvim_win_is_valid(win) then
    pcall(vim.api.nvim_win_close, win, true)
  end
  win = nil
end

---Draw (or move) the float with the running sessions, newest at the bottom.
function M.draw()
  if not config.options.progress or #order == 0 or vim.o.lines < 8 then
    close()
    return
  end
  local maxw = math.max(math.min(math.floor(vim.o.columns * 0.45), 72), 20)
  local text = {}
  for _, id in ipairs(order) do
    for _, line in ipairs(M.lines(M.sessions[id])) do
      if type(line) == "table" then
        -- The thinking sentence on up to two lines, broken at a space.
        local rest = line.thinking
        for i = 1, 2 do
          if vim.fn.strdisplaywidth(rest) <= maxw - 2 or i == 2 then
            text[#text + 1] = " " .. cut(rest, maxw - 2) .. " "
            break
          end
          local head = vim.fn.strcharpart(rest, 0, maxw - 2)
          local at = head:match(".*() ") or #head
          text[#text + 1] = " " .. head:sub(1, at - 1) .. " "
          rest = rest:sub(at + 1)
        end
      else
        text[#text + 1] = " " .. cut(line, maxw - 2) .. " "
      end
    end
  end
  local width = 0
  for _, line in ipairs(text) do
    width = math.max(width, vim.fn.strdisplaywidth(line))
  end
  if not (buf and vim.api.nvim_buf_is_valid(buf)) then
    buf = vim.api.nvim_create_buf(false, true)
    vim.bo[buf].bufhidden = "hide"
  end
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, text)
  local ns = vim.api.nvim_create_namespace("agentls.status")
  vim.api.nvim_buf_clear_namespace(buf, ns, 0, -1)
  for i, line in ipairs(text) do
    local hl = line:find("^ agentls") and "AgentlsStatusTitle" or "AgentlsStatus"
    vim.api.nvim_buf_set_extmark(buf, ns, i - 1, 0, { end_col = #line, hl_group = hl })
  end
  -- Above the statusline and the command line, right-aligned.
  local row = vim.o.lines - vim.o.cmdheight - (vim.o.laststatus > 0 and 1 or 0)
  local cfg = {
    relative = "editor", anchor = "SE", row = row, col = vim.o.columns, width = width, height = #text,
    style = "minimal", focusable = false, zindex = 45, border = "none",
  }
  if win and vim.api.nvim_win_is_valid(win) then
    vim.api.nvim_win_set_config(win, cfg)
  else
    cfg.noautocmd = true
    win = vim.api.nvim_open_win(buf, false, cfg)
    vim.wo[win].winhighlight = "Normal:AgentlsStatus,NormalFloat:AgentlsStatus"
    vim.wo[win].winblend = 0
  end
end

---The float's window (tests, screenshots); nil when hidden.
---@return integer?
function M.window()
  return win and vim.api.nvim_win_is_valid(win) and win or nil
end

---The end-of-session line, with this client's key hint.
---@param s table
---@return string
---@return integer level
function M.end_line(s)
  local message = (s.message and s.message ~= "") and s.message or s.state
  local changes = s.changes or {}
  if s.state == "failed" then
    return "agentls: " .. message, vim.log.levels.ERROR
  end
  if (changes.count or 0) > 0 then
    local keys = config.options.keymaps
    local hint = ((keys and keys.next) or ":AgentNext") .. " to review"
    return ("agentls: %s: %s"):format(message, hint), vim.log.levels.INFO
  end
  return "agentls: " .. message, s.state == "cancelled" and vim.log.levels.WARN or vim.log.levels.INFO
end

---Handler for `agentls/sessionStatus`.
---@param err? table
---@param s table
function M.on_status(err, s)
  if err or type(s) ~= "table" or not s.sessionId then
    return
  end
  M.seen = true
  local id = s.sessionId
  if s.state == "running" or s.state == nil then
    if not M.sessions[id] then
      order[#order + 1] = id
    end
    M.sessions[id] = s
  else
    M.sessions[id] = nil
    order = vim.tbl_filter(function(o)
      return o ~= id
    end, order)
    local line, level = M.end_line(s)
    vim.notify(line, level)
  end
  M.draw()
  pcall(vim.cmd.redrawstatus)
end

local function set_highlights()
  vim.api.nvim_set_hl(0, "AgentlsStatus", { default = true, link = "NormalFloat" })
  vim.api.nvim_set_hl(0, "AgentlsStatusTitle", { default = true, link = "Title" })
end
set_highlights()
local group = vim.api.nvim_create_augroup("agentls.status", { clear = true })
vim.api.nvim_create_autocmd("ColorScheme", { group = group, callback = set_highlights })
vim.api.nvim_create_autocmd("VimResized", { group = group, callback = function()
  M.draw()
end })

return M
