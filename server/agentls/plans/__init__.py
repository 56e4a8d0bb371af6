"""Task plans: the architect proposes ordered steps, the user reviews them, the executor runs them.

``models`` (plans and steps as plain data, validation, dependency order), ``roles`` (architect,
coder, tester: prompt templates and tool sets, as data), ``architect`` (plan mode: a read-only
session that ends in ``submit_plan``), ``render`` (the plan as an editable markdown document, and
back), ``executor`` (dependency order, bounded concurrency for independent steps, a checkpoint per
step, verification, failure handling, rollback). Nothing here knows whether the language server or
the CLI called it; persistence is ``agentls.store.plans``.
"""
