"""SQLAlchemy tables, one module per domain; importing this package registers them all."""

from app.models.digest import Delivery, Digest, DigestItem
from app.models.embedding import Embedding
from app.models.job import JobRun, JobSlot, SourceState
from app.models.paper import Paper, PaperSource
from app.models.subscriber import Feedback, Subscriber, SubscriberTopic, Suppression
from app.models.topic import PaperScore, PaperTopic, PaperTopicState, Topic, TopicBuild, TopicDailyCount

__all__ = [
    "Delivery",
    "Digest",
    "DigestItem",
    "Embedding",
    "Feedback",
    "JobRun",
    "JobSlot",
    "Paper",
    "PaperSource",
    "PaperScore",
    "PaperTopic",
    "PaperTopicState",
    "SourceState",
    "Subscriber",
    "SubscriberTopic",
    "Suppression",
    "Topic",
    "TopicBuild",
    "TopicDailyCount",
]
