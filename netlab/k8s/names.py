"""Generated names shaped like Kubernetes' own."""
from __future__ import annotations

import json

# k8s.io/apimachinery/pkg/util/rand: no vowels or look-alike characters.
ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


def safe_encode(text: str) -> str:
    return "".join(ALPHANUMS[ord(c) % len(ALPHANUMS)] for c in text)


def fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def pod_template_hash(template: dict, collision_count: int = 0) -> str:
    """ComputeHash: FNV-32a over the template, rendered with SafeEncodeString (≤10 chars)."""
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    h = fnv32a(data + (collision_count.to_bytes(4, "little") if collision_count else b""))
    return safe_encode(str(h))[:10].rjust(10, "b")


def random_suffix(rng, n: int = 5) -> str:
    return "".join(rng.choice(ALPHANUMS) for _ in range(n))
