"""The crawler's own signals (besides Scrapy's)."""

# A discovery round is over: every list it read is read and what they named is queued
# (crawler.frontier.discovery). The incremental middleware moves the round's watermarks on it.
sweeps_finished = object()

# A page's work was cut short, not done: its extraction was interrupted because the crawl is stopping
# (crawler.pipelines). Sent with request_url, the URL the spider asked for. A frontier worker gives that
# request back to the queue instead of acknowledging it (crawler.frontier.scheduler).
page_interrupted = object()
