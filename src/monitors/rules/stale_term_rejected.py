"""A handler replies false to a request of a term older than its own.

The reply's Term is the handler's currentTerm: a vote granted, or an
AppendEntries answered with Success, under a reply Term higher than the
request's accepted a stale request.
"""

from __future__ import annotations

from monitors.rule import APPEND_ENTRIES, REQUEST_VOTE, Rule, peer_name, seconds
from monitors.traffic import LIVE_HANDLER, Call, method_name


class StaleTermRejected(Rule):
    name = "stale term rejected"
    source = ("Figure 2, RequestVote/AppendEntries RPC, receiver 1: "
              "reply false if term < currentTerm")
    reads = (REQUEST_VOTE, APPEND_ENTRIES)

    def on_call(self, call: Call) -> None:
        reply = call.reply
        if reply is None:
            return
        if call.method == REQUEST_VOTE:
            # Without VoteGranted, one vote per term says it cannot be checked.
            if call.outcome not in LIVE_HANDLER or not reply.get("votegranted"):
                return
            what = "vote granted"
        else:
            if "success" not in reply:
                self.cannot("AppendEntries' reply has no Success")
                return
            if not reply["success"]:
                return
            what = "AppendEntries accepted"
        theirs = call.reply_term
        if theirs is not None and theirs > call.term:
            raise self.broken(
                f"{what}: {peer_name(call.dst)} was in term {theirs} and accepted "
                f"{method_name(call.event)} of term {call.term} from {peer_name(call.src)} "
                f"(t={seconds(call.handled)})",
                [call.dst, call.src], theirs, [call.event])
