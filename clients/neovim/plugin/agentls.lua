-- agentls.nvim user commands. Logic lives in lua/agentls/; call require("agentls").setup() to start the server.
if vim.g.loaded_agentls then
  return
end
vim.g.loaded_agentls = true

local function cmds()
  return require("agentls.commands")
end

local command = vim.api.nvim_create_user_command

command("AgentEdit", function(opts)
  cmds().edit(opts)
end, { nargs = "*", range = true, desc = "agentls: edit the range (or line) with the agent" })

command("AgentFix", function()
  cmds().fix()
end, { desc = "agentls: fix the diagnostics under the cursor with the agent" })

command("AgentTask", function(opts)
  cmds().task(opts)
end, { nargs = "*", desc = "agentls: run a multi-file agent task" })

command("AgentAccept", function(opts)
  cmds().review("accept", opts)
end, { bang = true, desc = "agentls: accept the change under the cursor (! all in the buffer)" })

command("AgentReject", function(opts)
  cmds().review("reject", opts)
end, { bang = true, desc = "agentls: reject the change under the cursor (! all in the buffer)" })

command("AgentNext", function()
  cmds().jump(1)
end, { desc = "agentls: next pending agent change" })

command("AgentPrev", function()
  cmds().jump(-1)
end, { desc = "agentls: previous pending agent change" })

command("AgentCancel", function()
  cmds().cancel()
end, { desc = "agentls: cancel the running agent sessions" })

command("AgentCheckpoints", function()
  cmds().checkpoints()
end, { desc = "agentls: pick a checkpoint, view its diff, restore it" })

command("AgentRollback", function(opts)
  cmds().rollback(opts)
end, { nargs = "?", desc = "agentls: restore the given (or the latest) checkpoint" })

command("AgentUsage", function()
  cmds().usage()
end, { desc = "agentls: tokens and cost of recent agent sessions" })

command("AgentDashboard", function()
  cmds().dashboard()
end, { desc = "agentls: open the dashboard (War Room) in the browser, and show its URL" })

command("AgentPlan", function(opts)
  require("agentls.plan").command(opts)
end, {
  nargs = "*", bang = true,
  complete = function(arglead, cmdline)
    return require("agentls.plan").complete(arglead, cmdline)
  end,
  desc = "agentls: plan a change ({task}), then run | status | rollback {step} | list | cancel | edit (! = auto-apply)",
})

command("AgentChanges", function()
  require("agentls.changes").quickfix()
end, { desc = "agentls: every pending agent change, in all files, in the quickfix list" })

command("AgentNextFile", function()
  require("agentls.changes").jump_file(1)
end, { desc = "agentls: next file with pending agent changes" })

command("AgentPrevFile", function()
  require("agentls.changes").jump_file(-1)
end, { desc = "agentls: previous file with pending agent changes" })

command("AgentDiff", function()
  require("agentls.changes").diff()
end, { desc = "agentls: the agent's version beside yours (the change under the cursor, else all in the buffer)" })
