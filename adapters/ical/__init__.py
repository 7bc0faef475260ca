"""iCalendar (RFC 5545) rendering of calendar feeds, with the `icalendar` library."""

from adapters.ical.feed import CONTENT_TYPE, render_feed

__all__ = ["CONTENT_TYPE", "render_feed"]
