"""llm-chat: a self-hosted, multi-user LLM chat application."""
