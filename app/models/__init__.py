"""SQLAlchemy tables, one module per domain; importing this package registers them all.

`statuses` holds the StrEnums of the status columns (topics, subscribers, deliveries, subscribe
attempts): code uses the members, the database keeps their string values.
"""

from app.models.digest import Delivery, DeliveryContent, Digest, DigestItem, MailAlert
from app.models.early import TrendModelVersion, TrendPrediction
from app.models.embedding import Embedding
from app.models.index_artifact import IndexArtifact
from app.models.job import JobRun, JobSlot, SourceState
from app.models.paper import Paper, PaperSource
from app.models.ratelimit import RateLimit
from app.models.security import AuthFailure, UsedFormToken
from app.models.subscriber import (
    Feedback,
    SubscribeAttempt,
    Subscriber,
    SubscriberEvent,
    SubscriberInterest,
    SubscriberTopic,
    Suppression,
)
from app.models.topic import (
    PaperScore,
    PaperTopic,
    PaperTopicState,
    PhraseTrend,
    Topic,
    TopicBuild,
    TopicDailyCount,
)

__all__ = [
    "AuthFailure",
    "Delivery",
    "DeliveryContent",
    "Digest",
    "DigestItem",
    "Embedding",
    "Feedback",
    "IndexArtifact",
    "JobRun",
    "JobSlot",
    "MailAlert",
    "Paper",
    "PaperScore",
    "PaperSource",
    "PaperTopic",
    "PaperTopicState",
    "PhraseTrend",
    "RateLimit",
    "SourceState",
    "SubscribeAttempt",
    "Subscriber",
    "SubscriberEvent",
    "SubscriberInterest",
    "SubscriberTopic",
    "Suppression",
    "Topic",
    "TopicBuild",
    "TopicDailyCount",
    "TrendModelVersion",
    "TrendPrediction",
    "UsedFormToken",
]
