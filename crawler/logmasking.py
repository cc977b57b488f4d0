"""Keep passwords out of logs: mask the credentials of URLs in every log record.

`mask_credentials(text)` replaces the password of every URL-like
``scheme://user:password@host`` in a text with ``***`` (user and host stay),
likewise in a bare ``user:password@host`` (error messages quote netlocs), and
the value of ``password=``/``passwd=``/``pwd=`` pairs (URL query parameters, libpq
key=value strings). `mask_data(value)` does the same inside nested dicts/lists,
for what is stored (crawl_runs arguments and stats).

`install_log_masking()` makes every log record pass through `mask_credentials`.
It wraps the *log record factory* rather than adding a `logging.Filter` to a
handler: Scrapy replaces the root handler when the CrawlerProcess starts
(`scrapy.utils.log.configure_logging` → `install_scrapy_root_handler`) and again
when each Crawler is made (`Crawler._update_root_log_handler`), so a filter on a
handler would be lost, and a filter on a logger does not see records of its
child loggers. The record factory is global, survives both, and sees every
record of every logger (Scrapy's "Overridden settings" line, Twisted's
observer, py.warnings, our own). The message is rendered with its arguments
and replaced only when something was masked; a traceback (`exc_info`) and
`stack_info` are masked too. It also wraps `sys.excepthook`, for tracebacks
that never reach logging. Calling it again does nothing.

Limits, all on the side of hiding too much: the password is taken to run to
the last ``@`` before whitespace or the next ``scheme://``, so
``http://host:8080/a?mail=x@y.org`` comes out as ``http://host:***@y.org``.
A password holding raw whitespace is not URL syntax and is masked only up to
the whitespace: percent-encode it (as SQLAlchemy's URL rendering does).
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from typing import Any

logger = logging.getLogger(__name__)

MASK = "***"

# scheme://user:password@ — the scheme is bounded (no quadratic scan of long
# alphanumeric runs); the user has no ':', '/', '@' or whitespace (it may be
# empty: redis://:pw@host); the password is greedy up to the *last* '@' before
# whitespace, so '@', ':' and '/' inside it stay hidden, but it never runs into
# the next URL ("://").
_URL_CREDENTIALS = re.compile(
    r"(?P<prefix>[A-Za-z][A-Za-z0-9+.\-]{0,31}://[^\s:/?#@\[\]]*:)"
    r"(?:(?!://)\S)*"  # the password: greedy, so it backtracks to the last '@'
    r"@"
)
# user:password@host without a scheme, as in "invalid hostname: u:pw@127.0.0.1"
# (error messages quote a URL's netloc); the host must look like one
_NETLOC_CREDENTIALS = re.compile(
    r"(?P<prefix>(?<![\w.%+~/:-])[\w.%+~-]+:)(?!//)"  # scheme:// is the rule above
    r"(?:(?!://)\S)*"
    r"@(?=[A-Za-z0-9\[])"
)
# password=… in query strings and libpq key=value strings ('quoted values' too)
_KEY_VALUE_PASSWORD = re.compile(
    r"(?P<prefix>(?<![\w-])(?:password|passwd|pwd)\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'|[^\s&;'\"]+)",
    re.IGNORECASE,
)


def mask_credentials(text: str) -> str:
    """`text` with URL passwords and password=… values replaced by ***."""
    if not text:
        return text
    lowered = text.lower()
    if "@" in text and "://" in text:
        text = _URL_CREDENTIALS.sub(_mask_url_password, text)
    if "@" in text:
        text = _NETLOC_CREDENTIALS.sub(_mask_url_password, text)
    if "pass" in lowered or "pwd" in lowered:
        text = _KEY_VALUE_PASSWORD.sub(lambda m: m.group("prefix") + MASK, text)
    return text


def _mask_url_password(match: re.Match) -> str:
    return match.group("prefix") + MASK + "@"


def mask_data(value: Any) -> Any:
    """A copy of `value` with every string (keys too) in dicts, lists and tuples masked."""
    if isinstance(value, str):
        return mask_credentials(value)
    if isinstance(value, dict):
        return {mask_data(k): mask_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(mask_data(v) for v in value)
    return value


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask a record in place: message with its arguments, traceback, stack."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: the handler reports it, printing msg and args
        record.msg = mask_credentials(str(record.msg))
        record.args = mask_data(record.args)
    else:
        masked = mask_credentials(message)
        if masked != message:
            record.msg, record.args = masked, ()
    if record.exc_info and not record.exc_text and isinstance(record.exc_info, tuple):
        text = _format_exception(record.exc_info)
        masked = mask_credentials(text)
        if masked != text:
            record.exc_text = masked  # logging.Formatter uses exc_text as is
    if record.stack_info:
        record.stack_info = mask_credentials(record.stack_info)
    return record


def _format_exception(exc_info) -> str:
    return logging.Formatter().formatException(exc_info)


def install_log_masking() -> None:
    """Mask credentials in every log record from now on (idempotent)."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "caixun_masking", False):

        def masking_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return mask_record(current(*args, **kwargs))

        masking_factory.caixun_masking = True  # type: ignore[attr-defined]
        logging.setLogRecordFactory(masking_factory)
    if not getattr(sys.excepthook, "caixun_masking", False):
        previous_hook = sys.excepthook

        def masking_excepthook(exc_type, exc, tb) -> None:
            text = "".join(traceback.format_exception(exc_type, exc, tb))
            masked = mask_credentials(text)
            if masked == text:
                previous_hook(exc_type, exc, tb)
            else:
                sys.stderr.write(masked)

        masking_excepthook.caixun_masking = True  # type: ignore[attr-defined]
        sys.excepthook = masking_excepthook
