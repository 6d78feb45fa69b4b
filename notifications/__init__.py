"""Push delivery library (message, senders, batching, retry policy). It never imports app/."""
