"""ai-orchestrator: code review through OpenAI, Anthropic or the offline local analyzers."""

LOCAL_PORT = 8004
