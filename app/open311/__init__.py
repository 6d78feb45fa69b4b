"""Open311 GeoReport v2 at /open311/v2: partner systems read our catalogue and public reports,
and send reports with an API key an administrator issued."""
