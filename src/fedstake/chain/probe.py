"""Is a JSON-RPC node there? One short request, so a wrong URL fails in a second, not after retries.

web3's HTTP provider retries a refused connection with backoff for about
11 s and then reports urllib3's words; asking `eth_chainId` once with a
short timeout says at once what is wrong, in terms a user can act on.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

_REQUEST = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()


def rpc_problem(url: str, *, timeout: float = 2.0) -> str | None:
    """None if a JSON-RPC node answers `eth_chainId` at `url`, else what went wrong."""
    if not url.startswith(("http://", "https://")):
        return f"{url!r} is not an http:// or https:// URL"
    request = urllib.request.Request(url, _REQUEST, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return f"{url} answers HTTP {exc.code}, not as a JSON-RPC node"
    except urllib.error.URLError as exc:
        reason = getattr(exc.reason, "strerror", None) or str(exc.reason)
        return f"no node answers at {url} ({reason.lower()})"
    except (ConnectionError, TimeoutError) as exc:
        return f"no node answers at {url} ({exc.__class__.__name__})"
    except ValueError:
        return f"{url} answers, but not with JSON-RPC"
    if not isinstance(answer, dict) or "result" not in answer:
        return f"{url} answers, but not with a chain id"
    return None
