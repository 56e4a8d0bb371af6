"""``agentls acp``: agentls as an Agent Client Protocol agent over stdio (Zed, JetBrains, CodeCompanion, Emacs).

Only this package imports the ``acp`` library. ``agent`` holds the protocol's handlers, ``session`` one
conversation, ``turn`` a prompt and the writes the user allows, ``plan`` plan mode, ``commands`` the slash
commands, ``updates`` the session events as ``session/update`` notifications, ``main`` the process.
"""
