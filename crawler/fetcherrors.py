"""What went wrong with a request, as a short stable reason (for stats) and a message (for the fetches row).

Reasons: http_<status>, timeout, connection_refused, connection_lost, data_loss, dns, too_large
(DOWNLOAD_MAXSIZE), too_many_redirects, robots_txt, banned, offsite, ignored, or the
exception's class name in lower case.
"""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure


def failure_reason(failure: Failure) -> str:
    """A short stable name for stats: http_503, timeout, connection_lost, too_large, …"""
    if failure.check(HttpError):
        return f"http_{failure.value.response.status}"
    name = type(failure.value).__name__
    text = str(failure.value)
    if _too_large(name, text):
        return "too_large"
    if failure.check(IgnoreRequest):  # dropped by a downloader middleware: say which and why
        for marker, reason in (("redirection", "too_many_redirects"), ("robots.txt", "robots_txt"),
                               ("banned", "banned"), ("offsite", "offsite")):  # fmt: skip
            if marker in text:
                return reason
        return "ignored"
    for marker, reason in (("Timeout", "timeout"), ("Refused", "connection_refused"), ("Resolve", "dns"),
                           ("DNS", "dns"), ("Cancelled", "cancelled"), ("DataLoss", "data_loss"),
                           ("Lost", "connection_lost"), ("NeverReceived", "connection_lost"),
                           ("ResponseFailed", "connection_lost"),
                           ("DownloadFailed", "connection_lost")):  # fmt: skip
        if marker in name:
            return reason
    return name.lower()


def _too_large(name: str, text: str) -> bool:
    """DOWNLOAD_MAXSIZE: Scrapy cancels the download, saying so when Content-Length gave the size away,
    with no text when the body grew too large as it came in (the only other cancellation is a timeout's)."""
    return "Cancelled" in name and ("max size" in text or not text)


def failure_message(failure: Failure) -> str:
    if failure.check(HttpError):
        return f"HTTP {failure.value.response.status}"
    name, text = type(failure.value).__name__, failure.getErrorMessage()
    if not text and _too_large(name, text):
        text = "the body grew larger than DOWNLOAD_MAXSIZE as it came in"
    # other Scrapy errors without text (ResponseDataLossError): their docstring says what happened
    text = text or (type(failure.value).__doc__ or "").strip().split("\n")[0]
    return f"{name}: {text}"[:1000]
