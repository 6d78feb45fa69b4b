"""The sender the settings ask for: the log (development default) or Firebase."""

from __future__ import annotations

from app.config import PushBackend, Settings
from notifications.senders import LogSender, Sender


class PushNotConfigured(RuntimeError):
    """The Firebase backend is chosen but its settings are incomplete."""


def build_sender(settings: Settings) -> Sender:
    if settings.push_backend is PushBackend.log:
        return LogSender()
    if settings.firebase_credentials_file is None or settings.firebase_project_id is None:
        raise PushNotConfigured(
            "CITIZENHUB_PUSH_BACKEND=firebase needs CITIZENHUB_FIREBASE_CREDENTIALS_FILE and "
            "CITIZENHUB_FIREBASE_PROJECT_ID"
        )
    from notifications.firebase import FirebaseSender

    return FirebaseSender(
        settings.firebase_project_id,
        credentials_file=settings.firebase_credentials_file,
        endpoint_url=settings.fcm_endpoint_url,
    )
