-- Drives `:AgentPlan` in a headless Neovim for tests/e2e/test_neovim_plan.py (same environment as run.lua).
local env = vim.env
vim.opt.runtimepath:prepend(env.NVIM_AGENTLS_TEST_PLUGIN)
vim.cmd("filetype on")
vim.cmd("runtime plugin/agentls.lua")
vim.o.columns = 160

local result = { notifications = {}, data = {} }
vim.notify = function(msg, level)
  table.insert(result.notifications, { msg = msg, level = level or vim.log.levels.INFO })
end

local TIMEOUT = 60000

local function wait(cond, what)
  if not vim.wait(TIMEOUT, function()
    local ok, value = pcall(cond)
    return ok and value
  end, 20) then
    error("timed out waiting for " .. what, 2)
  end
end

local function lines(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n") .. "\n"
end

local plan

local function open()
  require("agentls").setup({ cmd = { env.NVIM_AGENTLS_TEST_PYTHON, "-m", "agentls", "serve" }, keymaps = false })
  plan = require("agentls.plan")
  vim.cmd.edit(env.NVIM_AGENTLS_TEST_FILE)
  local bufnr = vim.api.nvim_get_current_buf()
  wait(function()
    local clients = vim.lsp.get_clients({ bufnr = bufnr })
    return #clients > 0 and clients[1].initialized
  end, "the server to attach")
  return bufnr
end

local scenarios = {}

function scenarios.done_when()
  local calc = open()
  vim.ui.select = function(items, opts, on_choice)
    table.insert(result.notifications, { msg = "unexpected question: " .. opts.prompt, level = 4 })
    on_choice("stop")
  end
  vim.cmd("AgentPlan! add sub, a bounded add and tests")
  wait(function()
    return plan.last and vim.api.nvim_buf_get_name(0):match("%.md$")
  end, "the plan document")
  local id = plan.last
  local doc = vim.api.nvim_get_current_buf()
  result.data.plan_id = id
  result.data.document = vim.api.nvim_buf_get_name(doc)
  result.data.document_text = lines(doc)
  -- Review and edit the plan before running it (unsaved: :AgentPlan run saves it).
  for i, line in ipairs(vim.api.nvim_buf_get_lines(doc, 0, -1, false)) do
    if line == "Add tests/test_calc.py." then
      vim.api.nvim_buf_set_lines(doc, i - 1, i, false, { "Add one test module." })
    end
  end
  vim.cmd("AgentPlan run")
  wait(function()
    local p = plan.plans[id]
    return p and p.status == "done" and not p.running
  end, "the plan to finish")
  result.data.doc_modified = vim.bo[doc].modified
  wait(function()
    return lines(calc):find("bounded_add", 1, true)
  end, "calc.py to be reloaded")
  result.data.calc_after_run = lines(calc)
  local shown
  plan.status(id, function(p, bufnr)
    shown = bufnr
  end)
  wait(function()
    return shown
  end, "the status view")
  result.data.status = vim.api.nvim_buf_get_lines(shown, 0, -1, false)
  vim.cmd("wincmd p")
  local rolled
  plan.rollback("2", id, function(r)
    rolled = r
  end)
  wait(function()
    return rolled and not lines(calc):find("bounded_add", 1, true)
  end, "the rollback")
  result.data.rollback = rolled
  result.data.calc_after_rollback = lines(calc)
  result.data.calc_modified = vim.bo[calc].modified
  wait(function()
    return vim.api.nvim_buf_is_valid(shown) and lines(shown):find("2     pending", 1, true)
  end, "the status view to follow")
  result.data.status_after = vim.api.nvim_buf_get_lines(shown, 0, -1, false)
end

function scenarios.failure_question()
  open()
  local asked = {}
  vim.ui.select = function(items, opts, on_choice)
    table.insert(asked, { prompt = opts.prompt, items = items })
    on_choice("skip")
  end
  local id
  plan.new("x", true, function(p)
    id = p.id
  end)
  wait(function()
    return id
  end, "the plan")
  vim.cmd("AgentPlan run " .. id)
  wait(function()
    local p = plan.plans[id]
    return p and p.status == "done" and not p.running
  end, "the plan to finish")
  result.data.asked = asked
  result.data.statuses = vim.tbl_map(function(s)
    return s.status
  end, plan.plans[id].steps)
end

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
