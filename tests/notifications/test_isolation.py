"""The notifications package stands alone: importing it never imports the app package."""

from __future__ import annotations

import subprocess
import sys


def test_notifications_never_imports_app() -> None:
    code = (
        "import sys\n"
        "import notifications.errors, notifications.fake_fcm, notifications.message\n"
        "import notifications.policy, notifications.senders\n"
        "assert not [m for m in sys.modules if m == 'app' or m.startswith('app.')], 'app imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
