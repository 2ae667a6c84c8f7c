"""The trust question in the app: the project's own commands, asked about once.

A mixin of GearshiftApp. Until the user trusts the project's config (here, or with
`gearshift trust` in another terminal), the session and the watcher run with an untrusted
config: the engine reports the project's own commands as not run and runs the built-in checks
with gearshift's Python. Saying yes records the trust and swaps the config in both.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gearshift.ui.app import GearshiftApp

    _Base = GearshiftApp
else:
    _Base = object


class TrustMixin(_Base):
    def ask_trust(self) -> None:
        """Show the project's own commands once and ask (nothing when the config is trusted).
        Until the answer is yes none of them runs (the engine reports them as not run); a run
        of every task the command line asked for starts once the question is answered."""
        from gearshift import trust
        from gearshift.ui.screens.trust import TrustScreen

        if self.config.trusted:
            return
        verdict = trust.verdict(self.config)
        if verdict.trusted:  # trusted meanwhile (`gearshift trust` in another terminal)
            self.use_trusted_config()
            if self.run_all_on_start:
                self.action_run_all()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                try:
                    trust.record(self.config)
                except trust.TrustError as exc:
                    self.notify(f"{exc} — trusted for this session only", severity="error", timeout=12)
                self.use_trusted_config()
            else:
                self.notify(
                    f"Not trusted: the project's own commands do not run. `gearshift trust {self.config.root}` allows them.",
                    severity="warning",
                    timeout=10,
                )
            if self.run_all_on_start:
                self.action_run_all()

        self.push_screen(TrustScreen(str(self.config.root), verdict.needs.lines(), verdict.reason), answered)

    def use_trusted_config(self) -> None:
        """From now on the session and the watcher run the project's own commands."""
        self.config = dataclasses.replace(self.config, trusted=True)
        self.session.use_config(self.config)
        use = getattr(self.watcher, "use_config", None)
        if use is not None:
            use(self.config)
        self._update_header()
