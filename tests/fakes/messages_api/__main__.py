"""Standalone mode: `python -m tests.fakes.messages_api --script replies.json [--port 0] [--log f]`.

See the package docstring for the JSON script format.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from .json_script import ScriptError, load_script
from .server import FakeMessagesAPI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.messages_api", description=__doc__)
    parser.add_argument("--script", required=True, help="JSON list of replies and faults")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: a free one)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--log", help="append each request to this file as a JSON line")
    parser.add_argument("--no-validate", action="store_true", help="accept requests the API would reject")
    args = parser.parse_args(argv)
    try:
        script = load_script(args.script)
    except (OSError, ValueError, ScriptError) as exc:
        print(f"fake Messages API: cannot load {args.script}: {exc}", file=sys.stderr)
        return 2

    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with FakeMessagesAPI(
        script, host=args.host, port=args.port, validate=not args.no_validate, log_path=args.log
    ) as fake:
        print(f"PORT={fake.port}", flush=True)
        while not done.wait(0.2):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
