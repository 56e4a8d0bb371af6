import sys

from agentls.cli import main

sys.exit(main())
