"""Settings of the core's rules, with the domain page's defaults."""

from __future__ import annotations

from datetime import timedelta

from attrs import field, frozen

from tailtracker_core.model.files import FileRules
from tailtracker_core.model.reminders import ReminderSettings
from tailtracker_core.model.tiers import TierTable
from tailtracker_core.model.vaccines import VaccineSettings

__all__ = ["CoreConfig"]


@frozen
class CoreConfig:
    tiers: TierTable = field(factory=TierTable)
    invitation_ttl: timedelta = timedelta(days=7)
    # Failed logins: per account and per client address, as token buckets (never a lock-out).
    login_failures_per_minute_account: int = 5
    login_failures_burst_account: int = 10
    login_failures_per_minute_address: int = 20
    login_failures_burst_address: int = 50
    current_policy_version: str = "2026-01"
    files: FileRules = field(factory=FileRules)  # upload limits (docs/files.md)
    # Where links in notifications point (the API's public address; Settings.public_base_url).
    public_base_url: str = "http://127.0.0.1:8000"
    vaccines: VaccineSettings = field(factory=VaccineSettings)
    reminders: ReminderSettings = field(factory=ReminderSettings)
