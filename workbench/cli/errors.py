"""How every CLI verb reports bad input: one line on stderr and a non-zero exit, never a traceback."""
from __future__ import annotations

import sys
from typing import Callable

EXIT_BAD_INPUT = 2


def run_cli(name: str, body: Callable[[], int]) -> int:
    """Run a verb's body; a ValueError (ProjectError and friends), an OSError or running out of
    memory becomes one line."""
    try:
        return body()
    except (ValueError, OSError) as exc:
        print(f"workbench {name}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except MemoryError:
        print(f"workbench {name}: out of memory: make the network, its input or the batch size smaller",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"workbench {name}: interrupted", file=sys.stderr)
        return 130
