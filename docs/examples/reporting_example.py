"""The error-report filter (docs/explanation/security-model.md)."""

DEFAULT_EXCEPTION_REPORTER_FILTER = "pusher_django.reporting.SafeExceptionReporterFilter"
