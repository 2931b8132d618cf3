"""token_count estimates how many model tokens a text costs, with no tokenizer download.

tiktoken fetches its BPE tables at run time, so instead every word costs one token per 4
characters (rounded up) and every other non-space character one token. BPE vocabularies
merge common words, so this overestimates slightly for code, the safe side for a budget.
analysis-service cuts chunks and ai-orchestrator checks them with this same estimate.
"""

from __future__ import annotations

import math
import re

_TOKEN = re.compile(r"\w+|[^\w\s]")


def estimate_tokens(text: str) -> int:
    """A cheap, slightly pessimistic token count of ``text``."""
    return sum(math.ceil(len(token) / 4) for token in _TOKEN.findall(text))
