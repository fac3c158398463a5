"""Database tables and the types that go in and out of the services."""

from llm_chat.models.api_key import ApiKey
from llm_chat.models.audit import AuditAction, AuditEntry, AuditTarget
from llm_chat.models.catalog import ChatModel, Provider, ProviderKind
from llm_chat.models.conversation import Conversation, Message, MessageRole, MessageStatus
from llm_chat.models.invite import Invite
from llm_chat.models.login_attempt import LoginAttempt
from llm_chat.models.settings import AppSetting, UserLimit
from llm_chat.models.usage import UsageRecord
from llm_chat.models.user import Role, User

__all__ = [
    "ApiKey",
    "AppSetting",
    "AuditAction",
    "AuditEntry",
    "AuditTarget",
    "ChatModel",
    "Conversation",
    "Invite",
    "LoginAttempt",
    "Message",
    "MessageRole",
    "MessageStatus",
    "Provider",
    "ProviderKind",
    "Role",
    "UsageRecord",
    "User",
    "UserLimit",
]
