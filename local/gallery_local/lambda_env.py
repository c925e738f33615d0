"""Each Lambda function's own environment, while its handler runs in this process.

On AWS every function runs in its own sandbox with its own variables and its own role's
credentials. The local stack runs every handler in one process, in threads; os.environ is
process-wide. So `os.environ` becomes a view that, in a thread running a handler, shows that
function's environment alone (its variables, its role's credentials, the Lambda runtime's
variables) and elsewhere shows the process's own. A handler that reads a variable its function
does not declare, or calls AWS with credentials other than its role's, fails here as on AWS."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, MutableMapping

# What the process environment lends a function: how to run, not whom to be or what to reach.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "PYTHONPATH", "SSL_CERT_FILE", "MOTO_PORT")


class ThreadEnviron(MutableMapping):
    """os.environ, with a per-thread replacement while a handler runs."""

    def __init__(self, process: MutableMapping[str, str]) -> None:
        self.process = process
        self._local = threading.local()

    def _current(self) -> MutableMapping[str, str]:
        env = getattr(self._local, "env", None)
        return self.process if env is None else env

    def __getitem__(self, key: str) -> str:
        return self._current()[key]

    def __setitem__(self, key: str, value: str) -> None:
        self._current()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._current()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._current()))

    def __len__(self) -> int:
        return len(self._current())

    def copy(self) -> dict[str, str]:
        return dict(self._current())

    @contextlib.contextmanager
    def function(self, env: dict[str, str]) -> Iterator[None]:
        """Run the body with `env` as this thread's whole environment (a copy; writes stay there)."""
        saved = getattr(self._local, "env", None)
        self._local.env = dict(env)
        try:
            yield
        finally:
            self._local.env = saved


_lock = threading.Lock()


def install() -> ThreadEnviron:
    """Make os.environ per-thread capable. Idempotent."""
    with _lock:
        if not isinstance(os.environ, ThreadEnviron):
            # Replacing (not clearing) is the point: the process environment stays behind the view.
            os.environ = ThreadEnviron(os.environ)  # type: ignore[assignment]  # noqa: B003
        return os.environ  # type: ignore[return-value]


def base_environment() -> dict[str, str]:
    """The part of the process environment every function gets."""
    process = os.environ.process if isinstance(os.environ, ThreadEnviron) else os.environ
    return {k: process[k] for k in _INHERITED if k in process}
