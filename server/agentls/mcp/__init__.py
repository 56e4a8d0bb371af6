"""Tools from the user's MCP servers: where they are declared (``sources``), which the user trusts
(``trust``), one running server (``client``, the only module that imports the ``mcp`` SDK), a server's
tool as one of the agent's (``tools``), and the servers of a workspace shared by its sessions (``hub``)."""
