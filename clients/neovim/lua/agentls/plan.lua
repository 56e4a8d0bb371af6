---Task plans: `:AgentPlan {task}` drafts a plan (the server opens its markdown document: edit it, then
---`:AgentPlan run`), `:AgentPlan status` shows each step's state and cost, `:AgentPlan rollback {step}` puts
---the files back as they were before that step. State comes from `agentls/planUpdated` notifications.
local lsp = require("agentls.lsp")
local config = require("agentls.config")

local M = {}

---Latest state of each plan seen (from `agentls/planUpdated` and command results), by id.
---@type table<string, table>
M.plans = {}
---The plan drafted or run last from this editor.
---@type string?
M.last = nil

local asked = {}
local status_bufs = {}

---JSON null arrives as vim.NIL: treat it as nil.
local function val(x)
  if x == vim.NIL then
    return nil
  end
  return x
end

local ICONS = {
  pending = " ", running = "…", review = "?", done = "✓", failed = "✗", skipped = "-", blocked = "!",
  interrupted = "⚡", cancelled = "x",
}

---@param plan table
local function remember(plan)
  if plan and plan.id then
    M.plans[plan.id] = plan
  end
end

---The plan of the current buffer (its document `…/plans/<id>.md`), else the last one.
---@param id? string
---@return string?
function M.current(id)
  if id and id ~= "" then
    return id
  end
  local name = vim.api.nvim_buf_get_name(0)
  local from_doc = name:match("[/\\]plans[/\\]([%w]+)%.md$")
  return from_doc or M.last
end

---@param step table
---@return string
local function step_line(step, depth)
  local run = val(step.execution)
  local parts = {}
  if run then
    local t = run.tokens or {}
    local tokens = (t.input or 0) + (t.output or 0) + (t.cacheWrite or 0) + (t.cacheRead or 0)
    parts[#parts + 1] = ("%d tokens $%.4f"):format(tokens, val(step.costUsd) or val(run.costUsd) or 0)
    local verify = val(run.verify)
    if verify and val(verify.status) then
      parts[#parts + 1] = "verify " .. verify.status
    end
    local err = val(run.error)
    if err and err ~= "" then
      parts[#parts + 1] = (err:gsub("\n.*", ""))
    end
  end
  return ("%s%s %-5s %-11s %s%s"):format(string.rep("  ", depth), ICONS[step.status] or "?", step.id, step.status,
    step.title, #parts > 0 and ("  · " .. table.concat(parts, " · ")) or "")
end

---The plan as lines of text: a header, then one line per step.
---@param plan table
---@return string[]
function M.format(plan)
  local lines = {
    ("Plan %s · %s · $%.4f · %s"):format(plan.id, plan.status, plan.costUsd or 0, plan.autoApply and "auto-apply"
      or "review"),
    (plan.instruction:gsub("\n.*", "")),
    "",
  }
  local function walk(steps, depth)
    for _, step in ipairs(steps or {}) do
      lines[#lines + 1] = step_line(step, depth)
      walk(step.substeps, depth + 1)
    end
  end
  walk(plan.steps, 0)
  local q = val(plan.question)
  if q then
    lines[#lines + 1] = ""
    lines[#lines + 1] = ("step %s failed: %s"):format(q.stepId, val(q.error) or "")
  end
  return lines
end

---@param plan table
local function render_status(plan)
  local bufnr = status_bufs[plan.id]
  if not bufnr or not vim.api.nvim_buf_is_valid(bufnr) then
    return
  end
  vim.bo[bufnr].modifiable = true
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, M.format(plan))
  vim.bo[bufnr].modifiable = false
end

---Ask what to do about a failed step (once per failure), then answer with agentls.plan.decide.
---@param plan table
local function ask(plan)
  local q = val(plan.question)
  if not q or asked[plan.id .. "/" .. q.stepId] then
    return
  end
  asked[plan.id .. "/" .. q.stepId] = true
  vim.ui.select(q.actions, {
    prompt = ("agentls plan %s: step %s failed (%s). What now?"):format(plan.id, q.stepId,
      ((val(q.error) or ""):gsub("\n.*", ""))),
  }, function(choice)
    asked[plan.id .. "/" .. q.stepId] = nil
    lsp.execute("agentls.plan.decide", { planId = plan.id, stepId = q.stepId, action = choice or "stop" })
  end)
end

---Reload unmodified buffers whose file a plan step changed on disk (`:checktime` per buffer: a bare
---`:checktime` skips hidden buffers).
function M.reload()
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].buftype == "" and not vim.bo[bufnr].modified
      and vim.api.nvim_buf_get_name(bufnr) ~= "" then
      vim.api.nvim_buf_call(bufnr, function()
        pcall(vim.cmd, "silent! checktime " .. bufnr)
      end)
    end
  end
end

---`agentls/planUpdated`: remember, reload buffers the plan changed on disk, refresh the status view, ask.
function M.on_updated(_, plan)
  if type(plan) ~= "table" then
    return
  end
  remember(plan)
  vim.schedule(function()
    M.reload()
    render_status(plan)
    ask(plan)
    if not plan.running and (plan.status == "done" or plan.status == "failed") and M.last == plan.id then
      vim.notify(("agentls: plan %s %s ($%.4f)"):format(plan.id, plan.status, plan.costUsd or 0),
        plan.status == "done" and vim.log.levels.INFO or vim.log.levels.WARN)
    end
  end)
end

vim.lsp.handlers["agentls/planUpdated"] = M.on_updated

---Write modified buffers of the workspace (the plan document, or files about to be restored).
local write_buffers = function(paths)
  require("agentls.commands").write_buffers(paths)
end

---Save the plan's document if it is open and modified (the server reads the edits from the file).
---@param id string
local function save_document(id)
  local plan = M.plans[id]
  local path = plan and val(plan.document)
  if not path then
    return
  end
  local bufnr = vim.fn.bufnr(path)
  if bufnr ~= -1 and vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].modified then
    vim.api.nvim_buf_call(bufnr, function()
      vim.cmd("silent! noautocmd write")
    end)
  end
end

---`:AgentPlan {task}`: the architect drafts a plan (read-only); its document opens for review.
---@param instruction string
---@param auto_apply boolean
---@param callback? fun(plan: table)
function M.new(instruction, auto_apply, callback)
  local function go(text)
    lsp.execute("agentls.plan", { instruction = text, autoApply = auto_apply }, function(plan)
      remember(plan)
      M.last = plan.id
      vim.notify(("agentls: plan %s: %d step(s), $%.4f. Edit the document, then :AgentPlan run"):format(
        plan.id, #plan.steps, plan.planningCostUsd or 0))
      if callback then
        callback(plan)
      end
    end)
  end
  if instruction and vim.trim(instruction) ~= "" then
    go(instruction)
  else
    vim.ui.input({ prompt = "Plan: " }, function(input)
      if input and vim.trim(input) ~= "" then
        go(input)
      end
    end)
  end
end

---`:AgentPlan[!] run [id]`: run the plan's pending steps (`!`: apply each step's edits without review).
---@param id? string
---@param auto_apply boolean
---@param callback? fun(result: table)
function M.run(id, auto_apply, callback)
  id = M.current(id)
  if not id then
    vim.notify("agentls: no plan: :AgentPlan {task} first", vim.log.levels.WARN)
    return
  end
  save_document(id)
  M.last = id
  local args = { planId = id, onFailure = "decide" }
  if auto_apply then
    args.autoApply = true
  end
  lsp.execute("agentls.plan.execute", args, function(result)
    vim.notify(("agentls: plan %s running: steps %s"):format(id, table.concat(result.steps or {}, ", ")))
    if callback then
      callback(result)
    end
  end)
end

---`:AgentPlan status [id]`: the plan's steps with their state, cost and verification, kept up to date.
---@param id? string
---@param callback? fun(plan: table, bufnr: integer)
function M.status(id, callback)
  id = M.current(id)
  if not id then
    vim.notify("agentls: no plan: :AgentPlan {task} first", vim.log.levels.WARN)
    return
  end
  lsp.execute("agentls.plan.status", { planId = id }, function(plan)
    remember(plan)
    local bufnr = status_bufs[plan.id]
    if not bufnr or not vim.api.nvim_buf_is_valid(bufnr) then
      vim.cmd("botright new")
      bufnr = vim.api.nvim_get_current_buf()
      vim.bo[bufnr].buftype = "nofile"
      vim.bo[bufnr].bufhidden = "wipe"
      vim.bo[bufnr].swapfile = false
      pcall(vim.api.nvim_buf_set_name, bufnr, "agentls://plan/" .. plan.id)
      status_bufs[plan.id] = bufnr
    end
    render_status(plan)
    if callback then
      callback(plan, bufnr)
    end
  end)
end

---`:AgentPlan rollback {step} [id]`: restore the files as they were before the step (undoable).
---@param step string
---@param id? string
---@param callback? fun(result: table)
function M.rollback(step, id, callback)
  id = M.current(id)
  if not id or not step or step == "" then
    vim.notify("agentls: usage: :AgentPlan rollback {step} [plan id]", vim.log.levels.WARN)
    return
  end
  if config.options.write_before_restore ~= false then
    write_buffers()
  end
  lsp.execute("agentls.plan.rollback", { planId = id, toStep = step }, function(result)
    if config.options.write_before_restore ~= false then
      write_buffers(result.restored)
    end
    vim.notify(("agentls: plan %s rolled back to before step %s; steps %s are pending (undo: :AgentRollback %s)")
      :format(id, step, table.concat(result.steps or {}, ", "), result.safetyCheckpoint or "?"))
    if callback then
      callback(result)
    end
  end)
end

---`:AgentPlan list`: pick a plan of the workspace and show its status.
function M.list()
  lsp.execute("agentls.plan.list", {}, function(list)
    if not list or #list == 0 then
      vim.notify("agentls: no plans in this workspace")
      return
    end
    vim.ui.select(list, {
      prompt = "Plan",
      format_item = function(p)
        return ("%s  %-11s %d/%d  $%.4f  %s"):format(p.id, p.status, p.done, p.steps, p.costUsd or 0,
          (p.instruction or ""):gsub("\n.*", ""))
      end,
    }, function(choice)
      if choice then
        M.last = choice.id
        M.status(choice.id)
      end
    end)
  end)
end

---`:AgentPlan cancel [id]`
---@param id? string
function M.cancel(id)
  id = M.current(id)
  if id then
    lsp.execute("agentls.plan.cancel", { planId = id }, function(result)
      vim.notify(result.cancelled and ("agentls: plan %s cancelled"):format(id) or "agentls: the plan was not running")
    end)
  end
end

---`:AgentPlan edit [id]`: open the plan's document.
---@param id? string
function M.edit(id)
  id = M.current(id)
  local plan = id and M.plans[id]
  if plan and plan.document then
    vim.cmd.edit(vim.fn.fnameescape(plan.document))
  elseif id then
    lsp.execute("agentls.plan.status", { planId = id }, function(p)
      remember(p)
      vim.cmd.edit(vim.fn.fnameescape(p.document))
    end)
  end
end

---The `:AgentPlan` command: `{task}`, `run [id]`, `status [id]`, `rollback {step} [id]`, `list`, `cancel [id]`,
---`edit [id]`; `!` on a task or on run means: apply each step's edits without review.
---@param opts {args: string, fargs: string[], bang: boolean}
function M.command(opts)
  local sub, a, b = opts.fargs[1], opts.fargs[2], opts.fargs[3]
  if sub == "run" and #opts.fargs <= 2 then
    M.run(a, opts.bang)
  elseif sub == "status" and #opts.fargs <= 2 then
    M.status(a)
  elseif sub == "rollback" and #opts.fargs <= 3 then
    M.rollback(a, b)
  elseif sub == "list" and #opts.fargs == 1 then
    M.list()
  elseif sub == "cancel" and #opts.fargs <= 2 then
    M.cancel(a)
  elseif sub == "edit" and #opts.fargs <= 2 then
    M.edit(a)
  else
    M.new(opts.args, opts.bang)
  end
end

---Completion for `:AgentPlan`.
function M.complete(arglead, cmdline)
  local words = vim.split(cmdline, "%s+", { trimempty = true })
  if #words <= 1 or (#words == 2 and arglead ~= "") then
    return vim.tbl_filter(function(s)
      return vim.startswith(s, arglead)
    end, { "run", "status", "rollback", "list", "cancel", "edit" })
  end
  return {}
end

return M
