"""The baseline: a pygls 2 server that does nothing but answer codeAction with an empty list."""

from lsprotocol import types
from pygls.lsp.server import LanguageServer

server = LanguageServer("bare", "0")


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION)
def code_action(params: types.CodeActionParams) -> list[types.CodeAction]:
    return []


if __name__ == "__main__":
    server.start_io()
